export default function Batteries() {
  return (
    <section>
      <h1>Batteries</h1>
    </section>
  );
}
