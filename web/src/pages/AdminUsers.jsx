export default function AdminUsers() {
  return (
    <section>
      <h1>AdminUsers</h1>
    </section>
  );
}
