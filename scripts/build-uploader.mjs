// Builds static/js/uploader.js (frontend/uploader.js with Uppy, one minified file) and
// static/js/uploader.licenses.txt (the licences of everything bundled into it).
//
//   npm run build                          write both into static/js/ (committed: `make run`
//                                          needs no Node)
//   node scripts/build-uploader.mjs DIR    write them into DIR instead (the drift test builds
//                                          into a temporary folder and compares)
//
// The output depends only on the sources and the packages in package-lock.json: the build
// stops if an installed package is not the version the lockfile names (run `npm ci`).
import { build } from "esbuild";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = process.argv[2] || join(ROOT, "static", "js");
const LICENSES = "uploader.licenses.txt";

function packageOf(path) {
  // node_modules/@scope/name/... or node_modules/name/... -> the innermost package folder
  const parts = path.split("/");
  const i = parts.lastIndexOf("node_modules");
  if (i < 0) return null;
  return parts.slice(0, i + (parts[i + 1].startsWith("@") ? 3 : 2)).join("/");
}

const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")).packages;

mkdirSync(OUT, { recursive: true });
const result = await build({
  absWorkingDir: ROOT,
  entryPoints: ["frontend/uploader.js"],
  outfile: join(OUT, "uploader.js"),
  bundle: true,
  minify: true,
  format: "iife",
  // As static/js/app.js: phones a few years old.
  target: ["es2018"],
  legalComments: "none",
  banner: { js: `/*! Direct uploads. Built from frontend/uploader.js with Uppy; licences: ${LICENSES} */` },
  define: { "process.env.NODE_ENV": '"production"' },
  metafile: true,
  logLevel: "warning",
});

const packages = [...new Set(Object.keys(result.metafile.inputs).map(packageOf).filter(Boolean))].sort();
const sections = [];
for (const dir of packages) {
  const meta = JSON.parse(readFileSync(join(ROOT, dir, "package.json"), "utf8"));
  const locked = lock[dir];
  if (!locked || locked.version !== meta.version) {
    console.error(`${dir} is ${meta.version}, package-lock.json says ${locked && locked.version}: run npm ci`);
    process.exit(1);
  }
  const file = readdirSync(join(ROOT, dir)).find((f) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(f));
  const text = file ? readFileSync(join(ROOT, dir, file), "utf8").trim() : `License: ${meta.license}`;
  sections.push(`${meta.name} ${meta.version} (${meta.license})\n\n${text}\n`);
}
writeFileSync(
  join(OUT, LICENSES),
  `Licences of the packages bundled into uploader.js (${relative(ROOT, join(ROOT, "frontend/uploader.js"))} is this project's).\n\n` +
    sections.join(`\n${"-".repeat(72)}\n\n`),
);
