// A table of rows under a caption and one heading per column, in a box that
// scrolls sideways on a narrow screen. The caption is for screen readers unless
// `captionShown`; `footer` holds the rows of a total.
export function DataTable({ caption, captionShown = false, columns, footer, className = "data", children, ...props }) {
  return (
    <div className="table-wrap">
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
