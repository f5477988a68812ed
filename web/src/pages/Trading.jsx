export default function Trading() {
  return (
    <section>
      <h1>Trading</h1>
    </section>
  );
}
