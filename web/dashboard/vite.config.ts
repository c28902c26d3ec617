// Built into dist/ and served by the gateway at /dashboard/ (gateway.dashboard): every asset is
// bundled and content-hashed, nothing is loaded from elsewhere at run time.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/dashboard/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2020",
    // ECharts is most of the bundle: one chunk of its own, cached across page changes.
    rollupOptions: { output: { manualChunks: { echarts: ["echarts/core", "echarts/charts", "echarts/components", "echarts/renderers"] } } },
    chunkSizeWarningLimit: 1200,
  },
  server: {
    proxy: { "/api": "http://127.0.0.1:8000" },
  },
});
