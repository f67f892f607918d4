/** A bad input value: names the input, the value received and what is accepted. */
export class InputError extends Error {
  constructor(
    readonly input: string,
    /** The value as received, or undefined when showing it could leak a secret. */
    readonly value: string | undefined,
    readonly accepted: string,
  ) {
    super(
      value === undefined
        ? `Input '${input}' is invalid: ${accepted}`
        : `Input '${input}' has invalid value ${JSON.stringify(value)}: expected ${accepted}`,
    );
    this.name = 'InputError';
  }
}
