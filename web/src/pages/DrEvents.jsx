export default function DrEvents() {
  return (
    <section>
      <h1>DrEvents</h1>
    </section>
  );
}
