/** Drops what this process writes to stdout and stderr; returns the function that lets it through again. */
export function muteOutput(): () => void {
  const writes = [process.stdout, process.stderr].map((stream) => [stream, stream.write] as const);
  for (const [stream] of writes) {
    stream.write = ((_chunk: unknown, encodingOrCallback?: unknown, callback?: unknown) => {
      const done = typeof encodingOrCallback === "function" ? encodingOrCallback : callback;
      if (typeof done === "function") queueMicrotask(() => (done as () => void)());
      return true;
    }) as typeof stream.write;
  }
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    for (const [stream, write] of writes) stream.write = write;
  };
}
