import { Fact } from "./fact.js";
import { useState } from "preact/hooks";
import type { ApiClient, StopMode } from "../lib/api.js";
import { ago, count, duration, time } from "../lib/format.js";
import { ACTIVE_STATES } from "../lib/levels.js";
import { navigate } from "../lib/route.js";
import type { JobStatus } from "../lib/types.js";
import { StateBadge } from "./state-badge.js";

/** The job's header: name, id, state, times, runtime, its error with the stack; stop, abort and delete. */
export function JobHeader(props: { api: ApiClient; status: JobStatus; streaming: boolean; onStatus(status: JobStatus): void }) {
  const { status } = props;
  const active = ACTIVE_STATES.has(status.state);
  return (
    <section class="card job-header" aria-label="Job">
      <div class="title-row">
        <h1>
          <span data-testid="job-name">{String(status.name)}</span> <StateBadge state={status.state} />
          {props.streaming && <span class="live-dot" title="Live: updates are pushed by the JobManager" />}
        </h1>
        <Actions api={props.api} status={status} active={active} onStatus={props.onStatus} />
      </div>
      <p class="mono muted job-id">{String(status.id)}</p>
      <dl class="facts">
        <Fact label="Submitted" title={ago(status.submittedAt)}>{time(status.submittedAt)}</Fact>
        <Fact label="Started">{time(status.startedAt)}</Fact>
        <Fact label="Ended">{time(status.endedAt)}</Fact>
        <Fact label="Runtime" testId="runtime">{duration(status.runtimeMs)}</Fact>
        <Fact label="Platform">{String(status.platform)}</Fact>
        <Fact label="Live tasks">{count(status.tasks)}</Fact>
        <Fact label="Restarts">{count(status.restartCount)}</Fact>
        <Fact label="Autostop">{status.autostop ? "yes" : "no"}</Fact>
      </dl>
      {status.error && (
        <div class="job-error" role="alert">
          <p>
            <strong>{status.error.operator ? `${status.error.operator}: ` : "Error: "}</strong>
            {String(status.error.message)}
          </p>
          {status.error.stack && (
            <details>
              <summary>Stack</summary>
              <pre>{String(status.error.stack)}</pre>
            </details>
          )}
        </div>
      )}
    </section>
  );
}

function Actions(props: { api: ApiClient; status: JobStatus; active: boolean; onStatus(status: JobStatus): void }) {
  const [pending, setPending] = useState<string | undefined>(undefined);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const { id } = props.status;

  const stop = async (mode: StopMode) => {
    setPending(mode === "drain" ? "Stopping (draining in-flight work)…" : "Aborting…");
    setError(undefined);
    try {
      props.onStatus(await props.api.stop(id, mode));
    } catch (failure) {
      setError(`${mode === "drain" ? "Stop" : "Abort"} failed: ${(failure as Error).message}`);
    } finally {
      setPending(undefined);
    }
  };

  const remove = async () => {
    setPending("Deleting…");
    setError(undefined);
    try {
      await props.api.remove(id);
      navigate({ name: "overview", filter: { state: "", query: "", page: 1 } });
    } catch (failure) {
      setError(`Delete failed: ${(failure as Error).message}`);
      setPending(undefined);
      setConfirming(false);
    }
  };

  return (
    <div class="actions">
      {props.active ? (
        <>
          <button type="button" data-action="stop" disabled={pending !== undefined} onClick={() => stop("drain")} title="Sources stop; records in flight are processed to the end">
            Stop
          </button>
          <button type="button" data-action="abort" class="danger" disabled={pending !== undefined} onClick={() => stop("abort")} title="Queued records are dropped and in-flight calls cancelled">
            Abort
          </button>
        </>
      ) : confirming ? (
        <span class="confirm" role="group" aria-label="Confirm delete">
          Delete this job, its log and history?{" "}
          <button type="button" data-action="confirm-delete" class="danger" disabled={pending !== undefined} onClick={remove}>
            Delete
          </button>{" "}
          <button type="button" data-action="cancel-delete" disabled={pending !== undefined} onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </span>
      ) : (
        <button type="button" data-action="delete" onClick={() => setConfirming(true)}>
          Delete…
        </button>
      )}
      {pending && <span class="muted pending">{pending}</span>}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
