// Builds the app into web/dist, which web/server.py serves behind Traefik, with
// the API reference at /api/docs.
// `npm run dev` serves it with hot reload and passes /api and /ws to a running
// platform (`make up`) on EMS_HTTP_PORT.
// The API reference's page and its script are in public/api/docs/; Swagger UI's
// own files are copied there from its npm package (swagger-ui-dist), so the page
// loads nothing from another origin.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

const platform = `http://127.0.0.1:${process.env.EMS_HTTP_PORT || 8080}`;
const SWAGGER_UI_FILES = ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"];

function apiDocs() {
  const require = createRequire(import.meta.url);
  return {
    name: "ems-api-docs",
    apply: "build",
    generateBundle() {
      for (const name of SWAGGER_UI_FILES) {
        this.emitFile({
          type: "asset",
          fileName: `api/docs/${name}`,
          source: readFileSync(require.resolve(`swagger-ui-dist/${name}`)),
        });
      }
    },
  };
}

export default defineConfig({
  plugins: [react(), apiDocs()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true },
  server: {
    host: "127.0.0.1",
    allowedHosts: ["app.localhost"],
    proxy: {
      "/api": { target: platform, changeOrigin: true },
      "/ws": { target: platform, ws: true, changeOrigin: true },
    },
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.{js,jsx}"],
  },
});
