/** One server-sent event: its `event` name (absent for plain messages) and its data lines joined. */
export interface ServerSentEvent {
  event?: string;
  data: string;
}

/** The events of a `text/event-stream` body, in order, as its chunks arrive. */
export async function* serverSentEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder();
  let buffer = "";
  let event: string | undefined;
  let data: string[] = [];
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let end = buffer.indexOf("\n", start); end >= 0; end = buffer.indexOf("\n", start)) {
      const line = buffer.charCodeAt(end - 1) === 13 ? buffer.slice(start, end - 1) : buffer.slice(start, end);
      start = end + 1;
      if (line === "") {
        if (data.length > 0) yield event === undefined ? { data: data.join("\n") } : { event, data: data.join("\n") };
        event = undefined;
        data = [];
        continue;
      }
      if (line.startsWith(":")) continue; // a comment (keep-alive)
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.charCodeAt(colon + 1) === 32 ? line.slice(colon + 2) : line.slice(colon + 1);
      if (field === "data") data.push(value);
      else if (field === "event") event = value;
    }
    buffer = buffer.slice(start);
  }
  // A stream that ends without the blank line still delivers its last event.
  if (buffer !== "" && buffer.startsWith("data:")) data.push(buffer.slice(buffer.charCodeAt(5) === 32 ? 6 : 5));
  if (data.length > 0) yield event === undefined ? { data: data.join("\n") } : { event, data: data.join("\n") };
}
