// One figure of a description list (`<dl>`): what it is, and its value.
export function Fact({ term, className, children }) {
  return (
    <div className={className}>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  );
}
