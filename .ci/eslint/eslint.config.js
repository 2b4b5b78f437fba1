// ESLint (flat config) for the field app's scripts. Run by .ci/run through .ci/eslint/lint, which
// installs package-lock.json's pins with `npm ci` into .local/eslint-node/<digest>/, copies this
// file beside them (node resolves the imports below from there) and lints static/field from the
// repository's root (the patterns below are relative to it).
//
// - The field app itself: ES modules (static/field/field.js and static/field/app/), no build
//   step. Each module stays under 300 lines.
// - The service worker (sw.js) and the two scripts kept apart from the app (field_map.js,
//   field_position.js): classic scripts, each in its own closure.
import js from "@eslint/js";
import globals from "globals";

const shared = {
  ...js.configs.recommended.rules,
  eqeqeq: ["error", "always"],
  "no-implicit-globals": "error",
  "no-shadow": ["error", { builtinGlobals: false }],
  "no-use-before-define": ["error", { functions: false, classes: true, variables: true }],
  "max-lines": ["error", { max: 300 }],
};

export default [
  {
    // Vendored libraries are not ours to lint.
    ignores: ["static/vendor/**"],
  },
  {
    files: ["static/field/field.js", "static/field/app/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: { ...globals.browser },
    },
    rules: shared,
  },
  {
    files: ["static/field/sw.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "script",
      globals: { ...globals.serviceworker },
    },
    // A worker's global scope is its own: nothing leaks into a page.
    rules: { ...shared, "no-implicit-globals": "off" },
  },
  {
    files: ["static/field/field_map.js", "static/field/field_position.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "script",
      globals: { ...globals.browser },
    },
    rules: shared,
  },
];
