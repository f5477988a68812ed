// A table of rows under a caption and one heading per column, in a box that
// scrolls sideways on a narrow screen. The caption is for screen readers unless
// `captionShown`; `footer` holds the rows of a total. `scrolls`: a table wider
// than its box, whose box takes the keyboard's focus so that it can be scrolled
// without a mouse.
export function DataTable({ caption, captionShown = false, columns, footer, className = "data", scrolls = false, children, ...props }) {
  const box = scrolls ? { tabIndex: 0, role: "region", "aria-label": caption } : {};
  return (
    <div className="table-wrap" {...box}>
      <table className={className} {...props}>
        <caption className={captionShown ? undefined : "visually-hidden"}>{caption}</caption>
        <thead>
          <tr>
            {columns.map((column) => (
              <th key={column} scope="col">
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
        {footer && <tfoot>{footer}</tfoot>}
      </table>
    </div>
  );
}
