/**
 * Keeps this process alive while jobs run, even when every task awaits something unref'd.
 * No handle is held until the event loop would otherwise empty ('beforeExit'): a job that ends
 * first (a short one, or one whose own I/O holds the loop) arms no timer, and a cold process
 * compiles none of Node's timer code for it.
 */
let holds = 0;
let timer: NodeJS.Timeout | undefined;
let listening = false;

// The loop emptied while a job runs: a timer that never fires holds it until the last job ends.
function onBeforeExit(): void {
  if (holds > 0 && timer === undefined) timer = setInterval(noop, 1 << 30);
}

function noop(): void {}

/** Holds the process alive until the returned release is called (once is enough; later calls do nothing). */
export function holdProcess(): () => void {
  if (!listening) {
    listening = true;
    process.on("beforeExit", onBeforeExit);
  }
  holds++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    // The last hold lets the process exit again.
    if (--holds > 0 || timer === undefined) return;
    clearInterval(timer);
    timer = undefined;
  };
}
