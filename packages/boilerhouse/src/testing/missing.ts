/** For tests' `.catch()`: a missing path reads as `value`; any other error still fails the test. */
export function whenMissing<T>(value: T): (error: NodeJS.ErrnoException) => T {
  return (error) => {
    if (error.code === 'ENOENT') return value;
    throw error;
  };
}
