/** A job's or service's state as a coloured badge. */
export function StateBadge(props: { state: string }) {
  // The class comes from a fixed set: a forged state shows as text, never as a class of its own.
  const known = ["created", "running", "finishing", "finished", "stopped", "failed", "starting"];
  return <span class={`badge state-${known.includes(props.state) ? props.state : "other"}`}>{String(props.state)}</span>;
}
