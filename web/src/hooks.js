import { useCallback, useEffect, useMemo, useRef, useState } from "react";

// Loads what `load(signal)` returns and keeps the three states a page shows:
// loading, error, data. `reload()` loads again without blanking what is shown.
export function useResource(load, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const loadRef = useRef(load);
  loadRef.current = load;
  const controllerRef = useRef(null);

  const reload = useCallback(async ({ quiet = false } = {}) => {
    controllerRef.current?.abort();
    const controller = new AbortController();
    controllerRef.current = controller;
    if (!quiet) setState((previous) => ({ ...previous, loading: true }));
    try {
      const data = await loadRef.current(controller.signal);
      if (!controller.signal.aborted) setState({ data, error: null, loading: false });
    } catch (error) {
      if (controller.signal.aborted || error?.name === "AbortError") return;
      setState((previous) => ({ ...previous, error, loading: false }));
    }
  }, []);

  useEffect(() => {
    reload();
    return () => controllerRef.current?.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);

  return { ...state, reload, setData: (update) => setState((s) => ({ ...s, data: update(s.data) })) };
}

// Runs `action` for a form: busy while it runs, the error it raised.
export function useAction(action) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const run = useCallback(
    async (...args) => {
      setBusy(true);
      setError(null);
      try {
        return await action(...args);
      } catch (caught) {
        setError(caught);
        return undefined;
      } finally {
        setBusy(false);
      }
    },
    [action],
  );
  return { run, busy, error, setError };
}

// Calls `tick` every `ms` while `enabled` and the page is visible.
export function useInterval(tick, ms, enabled = true) {
  const ref = useRef(tick);
  ref.current = tick;
  useEffect(() => {
    if (!enabled) return undefined;
    const timer = setInterval(() => {
      if (document.visibilityState !== "hidden") ref.current();
    }, ms);
    return () => clearInterval(timer);
  }, [ms, enabled]);
}

// The caller's devices, and their names by id (for messages that carry only ids).
export function useDeviceNames(api) {
  const devices = useResource((signal) => api.get("/api/devices", { signal }), []);
  const names = useMemo(
    () => Object.fromEntries((devices.data || []).map((device) => [device.id, device.name])),
    [devices.data],
  );
  return { names, reload: devices.reload };
}
