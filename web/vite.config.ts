import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// Served at /app/ (locally by the gateway, in AWS by CloudFront from the site bucket).
// No inline script or style: the pages run under a Content-Security-Policy with script-src 'self'.
export default defineConfig({
  base: "/app/",
  resolve: { alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    rollupOptions: {
      input: {
        main: fileURLToPath(new URL("./index.html", import.meta.url)),
        callback: fileURLToPath(new URL("./callback.html", import.meta.url)),
      },
    },
  },
});
