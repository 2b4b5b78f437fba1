// ESLint (flat config) for the project's scripts. Run by .ci/run through .ci/eslint/lint, which
// installs package-lock.json's pins with `npm ci` into .local/eslint-node/<digest>/, copies this
// file beside them (node resolves the imports below from there) and lints static/ from the
// repository's root (the patterns below are relative to it).
//
// - The field app itself: ES modules (static/field/field.js and static/field/app/), no build
//   step. Each module stays under 300 lines.
// - The operations board: ES modules (static/board/board.js and static/board/app/), the same
//   rules.
// - The service worker (sw.js), the two scripts kept apart from the app (field_map.js,
//   field_position.js) and the shared scripts in static/js/: classic scripts, each in its own
//   closure.
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
    // The field app and the operations board (static/board/board.js and static/board/app/).
    files: [
      "static/field/field.js",
      "static/field/app/**/*.js",
      "static/board/board.js",
      "static/board/app/**/*.js",
    ],
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
    // Classic scripts: the field app's two kept apart, the shared map (static/js/acs_map.js)
    // and the admin's referral form (static/js/admin_refer.js).
    files: [
      "static/field/field_map.js",
      "static/field/field_position.js",
      "static/js/**/*.js",
    ],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "script",
      globals: { ...globals.browser },
    },
    rules: shared,
  },
  {
    // The admin's referral form runs beside the admin's own scripts (django.jQuery).
    files: ["static/js/admin_refer.js"],
    languageOptions: { globals: { django: "readonly" } },
  },
];
