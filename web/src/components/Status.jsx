// The states every page shows the same way: loading, error, empty.
export function Loading({ label = "Loading…" }) {
  return (
    <p role="status" aria-busy="true" className="loading">
      {label}
    </p>
  );
}

export function ErrorMessage({ error, onRetry }) {
  if (!error) return null;
  return (
    <div role="alert" className="error-box">
      <p>{error.message || String(error)}</p>
      {onRetry && (
        <button type="button" className="secondary" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ children }) {
  return <p className="empty">{children}</p>;
}

// Loading, then error (with retry), then empty or the children.
export function Resource({ resource, empty, isEmpty, loadingLabel, children }) {
  const { data, error, loading, reload } = resource;
  if (loading && data === null) return <Loading label={loadingLabel} />;
  if (error && data === null) return <ErrorMessage error={error} onRetry={() => reload()} />;
  const nothing = isEmpty ? isEmpty(data) : Array.isArray(data) && data.length === 0;
  return (
    <>
      {error && <ErrorMessage error={error} onRetry={() => reload()} />}
      {nothing ? <Empty>{empty}</Empty> : children(data)}
    </>
  );
}
