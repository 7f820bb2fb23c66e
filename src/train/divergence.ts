/** The iterate or the loss stopped being finite: a fixed outcome of the inputs, never worth a retry. */
export class DivergenceError extends Error {
  override name = 'DivergenceError';
}
