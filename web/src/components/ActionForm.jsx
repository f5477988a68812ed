// A form whose submission runs `run` (a `useAction`'s) in place of loading a page.
export function ActionForm({ run, children, ...props }) {
  return (
    <form
      {...props}
      onSubmit={(event) => {
        event.preventDefault();
        run();
      }}
    >
      {children}
    </form>
  );
}

// The submit button of an `ActionForm`: disabled and marked busy while it runs.
export function SubmitButton({ busy, disabled = false, children }) {
  return (
    <button type="submit" disabled={busy || disabled} aria-busy={busy}>
      {children}
    </button>
  );
}
