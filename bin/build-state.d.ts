/** Whether dist/ is at least as new as the sources it was built from. */
export function distIsFresh(): boolean
