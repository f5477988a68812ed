// Builds the app into web/dist, which web/server.py serves behind Traefik.
// `npm run dev` serves it with hot reload and passes /api and /ws to a running
// platform (`make up`) on EMS_HTTP_PORT.
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

const platform = `http://127.0.0.1:${process.env.EMS_HTTP_PORT || 8080}`;

export default defineConfig({
  plugins: [react()],
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
