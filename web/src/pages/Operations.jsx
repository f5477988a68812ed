import { useCallback, useState } from "react";
import { DataTable } from "../components/DataTable.jsx";
import { Field } from "../components/Field.jsx";
import { ErrorMessage, Loading, Resource } from "../components/Status.jsx";
import { query } from "../api.js";
import { dateTime } from "../format.js";
import { useAction, useInterval, useResource } from "../hooks.js";
import {
  bodyText,
  deadLetterQuery,
  deletedText,
  errorLines,
  headerRows,
  health,
  healthSummary,
  metricsNotice,
  NONE,
  purgedText,
  purgeQuestion,
  queueText,
  REFRESH_MS,
  replayedText,
  sizeText,
  stageFigures,
  uptimeText,
} from "../operations.js";
import { useSession } from "../session.jsx";
import "./Operations.css";

// The newest dead letters listed.
const DEAD_LETTERS_SHOWN = 100;

// One stage of a path: its figures, then its queues.
function Stage({ stage }) {
  const figures = stageFigures(stage);
  return (
    <div className="stage">
      <h3>{stage.label}</h3>
      {figures.length > 0 && (
        <dl>
          {figures.map((figure) => (
            <div key={figure.label}>
              <dt>{figure.label}</dt>
              <dd>{figure.value}</dd>
            </div>
          ))}
        </dl>
      )}
      {stage.queues?.length > 0 && (
        <ul className="queues" aria-label={`Queues of ${stage.label}`}>
          {stage.queues.map((queue) => (
            <li key={queue.name} data-queue={queue.name}>
              <code>{queue.name}</code> {queueText(queue)}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

// A path the messages take, its stages in order, joined by arrows.
function Path({ id, title, description, stages, ...props }) {
  return (
    <section aria-labelledby={id} className="ops-path">
      <h2 id={id}>{title}</h2>
      <p>{description}</p>
      <ol className="pipeline" {...props}>
        {stages.map((stage, index) => (
          <li key={stage.stage} data-stage={stage.stage}>
            {index > 0 && (
              <span className="arrow" aria-hidden="true">
                →
              </span>
            )}
            <Stage stage={stage} />
          </li>
        ))}
      </ol>
    </section>
  );
}

function Health({ process }) {
  const shown = health(process);
  return (
    <>
      <span className={`health ${shown.className}`}>
        <span aria-hidden="true">{shown.symbol}</span> {shown.label}
      </span>
      {shown.failing.length > 0 && (
        <ul className="failing" aria-label={`What fails in ${process.process}`}>
          {shown.failing.map((line) => (
            <li key={line}>{line}</li>
          ))}
        </ul>
      )}
    </>
  );
}

function Processes({ processes }) {
  if (processes.length === 0) return <p className="empty">Prometheus knows of no process yet.</p>;
  return (
    <DataTable
      caption={`Processes: ${healthSummary(processes)}`}
      captionShown
      columns={["Process", "Program", "Health", "Version", "Up for", "Started"]}
      className="data processes"
      data-testid="processes"
      scrolls
    >
      {processes.map((process) => (
        <tr key={process.process} data-process={process.process} data-health={process.health}>
          <th scope="row">{process.process}</th>
          <td>{process.program || NONE}</td>
          <td>
            <Health process={process} />
          </td>
          <td>{process.version || NONE}</td>
          <td className="nowrap">{uptimeText(process.uptime_seconds)}</td>
          <td className="nowrap">{process.started_at ? dateTime(process.started_at) : NONE}</td>
        </tr>
      ))}
    </DataTable>
  );
}

// An error's first line; the rest (its traceback) unfolds.
function ErrorText({ error }) {
  const { summary, more } = errorLines(error.message);
  return (
    <>
      {error.level && error.level !== "ERROR" && <strong>{error.level}: </strong>}
      {summary}
      {more && (
        <details>
          <summary>More</summary>
          <pre tabIndex={0}>{more}</pre>
        </details>
      )}
    </>
  );
}

function Errors({ errors }) {
  if (errors.length === 0) return <p className="empty">No process has logged an error lately.</p>;
  return (
    <DataTable
      caption="The latest errors logged, newest first"
      columns={["Time", "Process", "Logger", "Message", "Correlation id"]}
      className="data ops-errors"
      data-testid="errors"
      scrolls
    >
      {errors.map((error, index) => (
        <tr key={`${error.at}-${error.process}-${index}`}>
          <td className="nowrap">
            <time dateTime={error.at} title={error.at}>
              {dateTime(error.at)}
            </time>
          </td>
          <td>{error.process}</td>
          <td>
            <code>{error.logger}</code>
          </td>
          <td className="message">
            <ErrorText error={error} />
          </td>
          <td>{error.correlation_id ? <code>{error.correlation_id}</code> : NONE}</td>
        </tr>
      ))}
    </DataTable>
  );
}

// One dead letter as kept: where it was going, its headers and its body.
function Inspection({ id, panelId, label }) {
  const { api } = useSession();
  const detail = useResource((signal) => api.get(`/api/dead-letters/${id}`, { signal }), [id]);
  return (
    <section id={panelId} aria-label={label} className="inspection">
      <Resource resource={detail} loadingLabel="Loading the dead letter…">
        {(letter) => (
          <>
            <dl className="facts">
              <div>
                <dt>Exchange</dt>
                <dd>{letter.exchange || NONE}</dd>
              </div>
              <div>
                <dt>Content type</dt>
                <dd>{letter.content_type || NONE}</dd>
              </div>
              <div>
                <dt>Replayable</dt>
                <dd>{letter.replayable ? "yes" : "no"}</dd>
              </div>
            </dl>
            <h4>Headers</h4>
            <dl className="headers" data-testid="dead-letter-headers">
              {headerRows(letter.headers).map(([name, value]) => (
                <div key={name}>
                  <dt>
                    <code>{name}</code>
                  </dt>
                  <dd>{value}</dd>
                </div>
              ))}
            </dl>
            <h4>Body{letter.truncated ? " (only its start was kept)" : ""}</h4>
            <pre className="body" data-testid="dead-letter-body" tabIndex={0}>
              {bodyText(letter)}
            </pre>
          </>
        )}
      </Resource>
    </section>
  );
}

function DeadLetterRow({ letter, open, busy, onToggle, onReplay, onDelete }) {
  const panelId = `dead-letter-${letter.id}`;
  return (
    <>
      <tr data-dead-letter-id={letter.id}>
        <td className="nowrap">{dateTime(letter.received_at)}</td>
        <td className="reason">{letter.reason}</td>
        <td>{letter.service}</td>
        <td className="routing-key">
          <code>{letter.routing_key}</code>
        </td>
        <td className="nowrap">{sizeText(letter.size)}</td>
        <td>
          <div className="actions">
            <button type="button" className="outline" aria-expanded={open} aria-controls={open ? panelId : undefined} onClick={onToggle}>
              {open ? "Hide" : "Inspect"}
            </button>
            <button
              type="button"
              disabled={busy || !letter.replayable}
              title={letter.replayable ? undefined : "Only a message published to ems.data or ems.sync, kept whole, can be replayed."}
              onClick={onReplay}
            >
              Replay
            </button>
            <button type="button" className="outline danger" disabled={busy} onClick={onDelete}>
              Delete
            </button>
          </div>
        </td>
      </tr>
      {open && (
        <tr className="inspected">
          <td colSpan={6}>
            <Inspection id={letter.id} panelId={panelId} label={`Dead letter of ${letter.routing_key}`} />
          </td>
        </tr>
      )}
    </>
  );
}

// The dead letters: a filter by reason, the newest of them, and what can be done
// with each (inspect, replay, delete) and with all (purge).
function DeadLetters() {
  const { api } = useSession();
  const [typed, setTyped] = useState("");
  const [reason, setReason] = useState("");
  const [inspected, setInspected] = useState(null);
  const [outcome, setOutcome] = useState(null);
  const list = useResource(
    (signal) => api.get(`/api/dead-letters${query(deadLetterQuery(reason, DEAD_LETTERS_SHOWN))}`, { signal }),
    [reason],
  );
  const { reload } = list;
  useInterval(() => reload({ quiet: true }), REFRESH_MS);

  // Runs one action, says what it did, and lists the dead letters again (also
  // when it failed: a dead letter someone else removed is gone from the list).
  const perform = useCallback(
    async (work) => {
      setOutcome(null);
      try {
        setOutcome(await work());
      } finally {
        reload({ quiet: true });
      }
    },
    [reload],
  );
  const action = useAction(perform);

  const replay = (letter) =>
    action.run(async () => replayedText(await api.post(`/api/dead-letters/${letter.id}/replay`)));
  const remove = (letter) => {
    if (!window.confirm(`Delete the dead letter of ${letter.routing_key}? It cannot be replayed afterwards.`)) return;
    action.run(async () => {
      await api.del(`/api/dead-letters/${letter.id}`);
      return deletedText(letter);
    });
  };
  const purge = () => {
    if (!window.confirm(purgeQuestion(reason))) return;
    action.run(async () => purgedText(await api.del(`/api/dead-letters${query(deadLetterQuery(reason))}`)));
  };

  return (
    <section aria-labelledby="dead-letters-title" className="dead-letters">
      <h2 id="dead-letters-title">Dead letters</h2>
      <p>
        Messages the platform refused: readings that can never count, bodies it cannot read. A replay publishes one
        again where it was first published; one that still cannot count comes back as a new dead letter.
      </p>
      <div className="dead-letter-tools">
        <form
          aria-label="Filter the dead letters"
          className="inline-form"
          onSubmit={(event) => {
            event.preventDefault();
            setInspected(null);
            setReason(typed.trim());
          }}
        >
          <Field
            label="Reason contains"
            name="reason"
            maxLength={200}
            autoComplete="off"
            value={typed}
            onChange={(event) => setTyped(event.target.value)}
          />
          <button type="submit" className="secondary">
            Filter
          </button>
        </form>
        <button type="button" className="outline danger" disabled={action.busy} onClick={purge}>
          {reason ? "Purge all matching" : "Purge all"}
        </button>
      </div>
      <div aria-live="polite">
        {outcome && !action.error && (
          <p role="status" className="outcome">
            {outcome}
          </p>
        )}
      </div>
      <ErrorMessage error={action.error} />
      <Resource
        resource={list}
        empty={reason ? `No dead letter's reason contains “${reason}”.` : "No dead letters: every message was taken."}
        loadingLabel="Loading the dead letters…"
      >
        {(letters) => (
          <DataTable
            caption={`Dead letters${reason ? ` whose reason contains “${reason}”` : ""}, newest first`}
            columns={["Received", "Reason", "Service", "Routing key", "Size", "Actions"]}
            className="data dead-letter-list"
            data-testid="dead-letters"
            scrolls
          >
            {letters.map((letter) => (
              <DeadLetterRow
                key={letter.id}
                letter={letter}
                open={inspected === letter.id}
                busy={action.busy}
                onToggle={() => setInspected(inspected === letter.id ? null : letter.id)}
                onReplay={() => replay(letter)}
                onDelete={() => remove(letter)}
              />
            ))}
          </DataTable>
        )}
      </Resource>
    </section>
  );
}

// ADMIN's view of the platform itself: the paths readings and pushes take with
// their live figures, every process's health, the dead letters and the latest
// errors. Asked again every few seconds.
export default function Operations() {
  const { api } = useSession();
  const state = useResource((signal) => api.get("/api/operations", { signal }), []);
  useInterval(() => state.reload({ quiet: true }), REFRESH_MS);
  const notice = metricsNotice(state.data?.metrics);
  return (
    <section className="operations">
      <h1>Operations</h1>
      <p>
        The platform at work, from Prometheus: rates are per second over the last minute, and the page is updated every{" "}
        {REFRESH_MS / 1000} seconds.
        {state.data?.generated_at && (
          <>
            {" "}
            As of <time dateTime={state.data.generated_at}>{dateTime(state.data.generated_at)}</time>.
          </>
        )}
      </p>
      {notice && (
        <p className="notice metrics-unavailable" role="status">
          {notice}
        </p>
      )}
      {state.loading && state.data === null ? (
        <Loading label="Loading the platform's state…" />
      ) : (
        <>
          <ErrorMessage error={state.error} onRetry={() => state.reload()} />
          {state.data && (
            <>
              <Path
                id="reading-pipeline-title"
                title="Reading pipeline"
                description="Each reading, from the devices through the broker, the balancer and the ingest workers to the database."
                stages={state.data.pipeline || []}
                data-testid="reading-pipeline"
              />
              <Path
                id="push-path-title"
                title="Push path"
                description="Events of the services, through the WebSocket gateway, to the browsers."
                stages={state.data.push || []}
                data-testid="push-path"
              />
              <section aria-labelledby="processes-title">
                <h2 id="processes-title">Processes</h2>
                <Processes processes={state.data.processes || []} />
              </section>
            </>
          )}
        </>
      )}
      <DeadLetters />
      {state.data && (
        <section aria-labelledby="errors-title">
          <h2 id="errors-title">Latest errors</h2>
          <Errors errors={state.data.errors || []} />
        </section>
      )}
    </section>
  );
}
