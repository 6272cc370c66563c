// ESLint for the whole tree: typescript-eslint's recommended rules and the house limits (lines of at most
// 120 columns, files of at most 400 lines). Layout is Prettier's (.prettierrc.json); `npm run lint` runs both.
import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '**/node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { ...globals.node } },
    rules: {
      'max-len': ['error', { code: 120, ignoreUrls: true }],
      'max-lines': ['error', { max: 400 }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  // The dashboard runs in the browser.
  { files: ['src/dashboard/**'], languageOptions: { globals: { ...globals.browser } } },
)
