import { useCallback, useMemo, useRef, useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import {
  ALARM_CREATED,
  ALARM_UPDATED,
  alarmsPath,
  appendPage,
  applyAlarm,
  filtersFromSearch,
  measure,
  originatorPath,
  searchFromFilters,
  SEVERITIES,
  SEVERITY_LABELS,
  STATUS_LABELS,
  STATUSES,
  stateText,
  TYPE_LABELS,
  TYPES,
  typeLabel,
} from "../alarms.js";
import { query } from "../api.js";
import { DataTable } from "../components/DataTable.jsx";
import { FormError } from "../components/Field.jsx";
import { Resource } from "../components/Status.jsx";
import { dateTime } from "../format.js";
import { useAction, useResource } from "../hooks.js";
import { useLive, useSession } from "../session.jsx";
import { AlarmAction } from "./alarms/AlarmAction.jsx";
import { SeverityBadge } from "./alarms/SeverityBadge.jsx";
import "./alarms/alarms.css";

const COLUMNS = ["Severity", "Type", "Source", "Message", "Started", "Ended", "State", "Acknowledged by", "Actions"];

// The filters, each applied as it changes; they live in the address, so that a
// view can be linked and Back undoes a change.
function Filters({ filters, onChange }) {
  const { api } = useSession();
  const sites = useResource((signal) => api.get("/api/sites", { signal }), []);
  const devices = useResource(
    (signal) => api.get(`/api/devices${query({ site_id: filters.site_id })}`, { signal }),
    [filters.site_id],
  );
  const toggle = (severity, checked) => {
    const chosen = new Set(filters.severity);
    if (checked) chosen.add(severity);
    else chosen.delete(severity);
    onChange({ severity: SEVERITIES.filter((one) => chosen.has(one)) });
  };
  return (
    <form className="alarm-filters" aria-label="Filter the alarms" onSubmit={(event) => event.preventDefault()}>
      <label>
        State
        <select name="status" value={filters.status} onChange={(event) => onChange({ status: event.target.value })}>
          {STATUSES.map((status) => (
            <option key={status} value={status}>
              {STATUS_LABELS[status]}
            </option>
          ))}
        </select>
      </label>
      <label>
        Type
        <select name="type" value={filters.type} onChange={(event) => onChange({ type: event.target.value })}>
          <option value="">Any type</option>
          {TYPES.map((type) => (
            <option key={type} value={type}>
              {TYPE_LABELS[type]}
            </option>
          ))}
        </select>
      </label>
      <label>
        Site
        <select name="site_id" value={filters.site_id} onChange={(event) => onChange({ site_id: event.target.value, device_id: "" })}>
          <option value="">Every site</option>
          {(sites.data || []).map((site) => (
            <option key={site.id} value={site.id}>
              {site.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Device
        <select name="device_id" value={filters.device_id} onChange={(event) => onChange({ device_id: event.target.value })}>
          <option value="">Every device</option>
          {(devices.data || []).map((device) => (
            <option key={device.id} value={device.id}>
              {device.name}
            </option>
          ))}
          {filters.device_id && !(devices.data || []).some((device) => device.id === filters.device_id) && (
            <option value={filters.device_id}>The device in the address</option>
          )}
        </select>
      </label>
      <fieldset>
        <legend>Severity (none ticked: every severity)</legend>
        {SEVERITIES.map((severity) => (
          <label key={severity}>
            <input type="checkbox" name="severity" value={severity} checked={filters.severity.includes(severity)} onChange={(event) => toggle(severity, event.target.checked)} />
            {SEVERITY_LABELS[severity]}
          </label>
        ))}
      </fieldset>
    </form>
  );
}

function Originator({ originator }) {
  const path = originatorPath(originator);
  const name = originator?.name || "–";
  return (
    <>
      {path ? <Link to={path}>{name}</Link> : name}
      {originator?.type === "site" && <small> (site)</small>}
    </>
  );
}

function AlarmRow({ alarm, onAct }) {
  const may = alarm.permissions || {};
  const active = alarm.status === "active";
  const name = `${typeLabel(alarm.type)} of ${alarm.originator?.name || "a device"}, started ${dateTime(alarm.started_at)}`;
  return (
    <tr className={active ? "alarm-active" : "alarm-cleared"} data-alarm-id={alarm.id} data-severity={alarm.severity} data-status={alarm.status}>
      <td>
        <SeverityBadge severity={alarm.severity} />
      </td>
      <td>{typeLabel(alarm.type)}</td>
      <td>
        <Originator originator={alarm.originator} />
      </td>
      <td className="alarm-message">
        {alarm.message}
        {alarm.value !== null && alarm.value !== undefined && (
          <small className="visually-hidden">
            {" "}
            (value {measure(alarm.value, alarm.unit)}, threshold {measure(alarm.threshold, alarm.unit)})
          </small>
        )}
      </td>
      <td className="alarm-when">
        <time dateTime={alarm.started_at}>{dateTime(alarm.started_at)}</time>
      </td>
      <td className="alarm-when">{alarm.ended_at ? <time dateTime={alarm.ended_at}>{dateTime(alarm.ended_at)}</time> : "–"}</td>
      <td className="alarm-state">
        {stateText(alarm)}
        {alarm.status === "cleared" && <small>{alarm.cleared_by ? `cleared by ${alarm.cleared_by.name}` : "its condition ended"}</small>}
      </td>
      <td className="alarm-who">
        {alarm.acknowledged_by ? (
          <>
            {alarm.acknowledged_by.name}
            {alarm.acknowledged_at && (
              <small>
                <time dateTime={alarm.acknowledged_at}>{dateTime(alarm.acknowledged_at)}</time>
              </small>
            )}
          </>
        ) : (
          "–"
        )}
        {alarm.comment && <small className="alarm-comment">“{alarm.comment}”</small>}
      </td>
      <td>
        <div className="alarm-actions">
          {may.acknowledge && !alarm.acknowledged && (
            <button type="button" className="outline" aria-label={`Acknowledge: ${name}`} onClick={() => onAct(alarm, "ack")}>
              Acknowledge
            </button>
          )}
          {may.clear && active && (
            <button type="button" className="secondary outline" aria-label={`Clear: ${name}`} onClick={() => onAct(alarm, "clear")}>
              Clear
            </button>
          )}
        </div>
      </td>
    </tr>
  );
}

// Alarms the account may see, newest first, filtered by the address; pushed
// alarms join, change or leave the list as they match the filters.
export default function Alarms() {
  const { api, liveStatus } = useSession();
  const [search, setSearch] = useSearchParams();
  const filters = useMemo(() => filtersFromSearch(search), [search]);
  const view = searchFromFilters(filters);
  const list = useResource((signal) => api.get(alarmsPath(filters), { signal }), [view, liveStatus === "open"]);
  const [acting, setActing] = useState(null);

  const change = (changes) => setSearch(new URLSearchParams(searchFromFilters({ ...filters, ...changes })));
  const apply = (message) => list.setData((page) => applyAlarm(page, message.data, filters));
  useLive(ALARM_CREATED, apply);
  useLive(ALARM_UPDATED, apply);

  const shownView = useRef(view);
  shownView.current = view;
  const cursor = list.data?.next;
  const { setData } = list;
  const more = useAction(
    useCallback(async () => {
      const asked = view;
      const page = await api.get(alarmsPath(filtersFromSearch(new URLSearchParams(asked)), { before: cursor }));
      // A page of filters since left behind is not added to the new ones' list.
      if (shownView.current === asked) setData((shown) => appendPage(shown, page));
    }, [api, cursor, view, setData]),
  );

  const [notice, setNotice] = useState("");
  const done = (alarm) => {
    list.setData((page) => applyAlarm(page, alarm, filters));
    setNotice(`${acting.action === "ack" ? "Acknowledged" : "Cleared"}: ${typeLabel(alarm.type)} of ${alarm.originator?.name || "a device"}.`);
    setActing(null);
  };
  // The focus, once the button that opened the dialog is gone: the alarm's row,
  // or the table when the alarm left the list.
  const table = useRef(null);
  const focusAfter = (id) => () => {
    const row = table.current?.querySelector(`[data-alarm-id="${CSS.escape(id)}"]`);
    (row?.querySelector("button, a") || table.current?.querySelector(".table-wrap") || table.current)?.focus();
  };

  return (
    <section className="alarms">
      <h1>Alarms</h1>
      <p>
        Alarms of your devices and sites, newest first. New ones and changes appear as they happen
        {liveStatus !== "open" && <strong> (live updates are reconnecting; the list is reloaded when they are back)</strong>}.
      </p>
      <Filters filters={filters} onChange={change} />
      <p role="status" className="alarm-notice">
        {notice}
      </p>
      <div ref={table} tabIndex={-1}>
        <Resource resource={list} isEmpty={(page) => !page?.alarms?.length} empty="No alarms match these filters." loadingLabel="Loading alarms…">
          {(page) => (
            <>
              <p role="status" className="visually-hidden">
                {page.alarms.length} alarms shown{page.next ? ", more to load" : ""}.
              </p>
              <DataTable caption="Alarms, newest first" columns={COLUMNS} scrolls data-testid="alarms">
                {page.alarms.map((alarm) => (
                  <AlarmRow key={alarm.id} alarm={alarm} onAct={(one, action) => setActing({ alarm: one, action })} />
                ))}
              </DataTable>
              {page.next && (
                <button type="button" className="outline alarm-more" aria-busy={more.busy} disabled={more.busy} onClick={() => more.run()}>
                  More alarms
                </button>
              )}
              <FormError error={more.error} />
            </>
          )}
        </Resource>
      </div>
      {acting && (
        <AlarmAction
          key={`${acting.alarm.id}-${acting.action}`}
          alarm={acting.alarm}
          action={acting.action}
          onDone={done}
          onClose={() => setActing(null)}
          onFocusLost={focusAfter(acting.alarm.id)}
        />
      )}
    </section>
  );
}
