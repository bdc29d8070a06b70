/** Every message along an error's cause chain, joined: Temporal wraps activity failures twice. */
export function failureMessages(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  while (e instanceof Error) {
    parts.push(e.message);
    e = e.cause;
  }
  return parts.join(' <- ');
}
