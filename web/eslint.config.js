// `npm run lint` (and `make lint`): the recommended JavaScript rules and React's
// rules of hooks, for the app, its unit tests and the browser scenarios.
import js from "@eslint/js";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import { AUDIENCES } from "./src/pushes.generated.js";

// A message type of /ws is named by its constant from src/pushes.generated.js,
// generated from the catalogue the server publishes with; never spelled out.
const escaped = Object.keys(AUDIENCES).map((type) => type.replace(/\./g, "\\."));
const messageTypeLiteral = {
  selector: `Literal[value=/^(${escaped.join("|")})$/]`,
  message: "Use the message type's constant from pushes.generated.js.",
};

// What an account may do is what GET /api/auth/me lists (`can(user, action)` from
// src/permissions.js), derived from the services' policies: no page decides from
// the role, which it may only show. A `.role` compared, looked up in a list or
// switched on is refused.
const ROLE_DECISION = "Decide from the account's permissions (can(user, action) in permissions.js), not its role.";
const ROLE = `MemberExpression[property.name="role"]`;
const roleDecisions = [
  `BinaryExpression[operator=/^[!=]=/] > ${ROLE}`,
  `BinaryExpression[operator=/^[!=]=/] > ChainExpression > ${ROLE}`,
  `CallExpression[callee.property.name="includes"] > ${ROLE}.arguments`,
  `CallExpression[callee.property.name="includes"] > ChainExpression.arguments > ${ROLE}`,
  `SwitchStatement > ${ROLE}.discriminant`,
  `SwitchStatement > ChainExpression.discriminant > ${ROLE}`,
].map((selector) => ({ selector, message: ROLE_DECISION }));

export default [
  { ignores: ["dist/", "node_modules/"] },
  js.configs.recommended,
  {
    files: ["src/**/*.{js,jsx}"],
    languageOptions: {
      ecmaVersion: "latest",
      sourceType: "module",
      globals: globals.browser,
      parserOptions: { ecmaFeatures: { jsx: true } },
    },
    plugins: { "react-hooks": reactHooks },
    rules: {
      "react-hooks/rules-of-hooks": "error",
      "react-hooks/exhaustive-deps": "error",
      // Components are used in JSX, which this rule does not see without the React plugin.
      "no-unused-vars": ["error", { varsIgnorePattern: "^[A-Z_]", argsIgnorePattern: "^_" }],
      "no-restricted-syntax": ["error", messageTypeLiteral, ...roleDecisions],
    },
  },
  {
    files: ["src/pushes.generated.js"],
    rules: { "no-restricted-syntax": "off" },
  },
  {
    // Tests may build any answer, roles and all.
    files: ["src/**/*.test.js"],
    rules: { "no-restricted-syntax": ["error", messageTypeLiteral] },
  },
  {
    files: ["src/**/*.test.js"],
    languageOptions: { globals: globals.node },
  },
  {
    // The API reference's script, run as a classic script beside Swagger UI's.
    files: ["public/**/*.js"],
    languageOptions: { sourceType: "script", globals: globals.browser },
  },
  {
    // Scenarios run in Node; the functions they hand to page.evaluate run in the page.
    files: ["e2e/**/*.js", "*.config.js"],
    languageOptions: {
      ecmaVersion: "latest",
      sourceType: "module",
      globals: { ...globals.node, ...globals.browser },
    },
  },
];
