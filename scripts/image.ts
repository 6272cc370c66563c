// `npm run image`: build localhost/tandem:VERSION and :latest (see scripts/image/build.ts).
import { buildImage } from './image/build.js'

const started = Date.now()
const image = await buildImage(process.stderr)
const seconds = Math.round((Date.now() - started) / 1000)
console.log(
  `built ${image.tags.join(' and ')} (${(image.sizeBytes / 1e6).toFixed(0)} MB, ${seconds}` +
    ` s${image.bootstrapped ? ', base debootstrapped' : ', cached base'})`,
)
