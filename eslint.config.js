// ESLint (flat config): typescript-eslint's type-checked recommended rules over every
// TypeScript file the project type-checks, plus import-x's `no-cycle` (layers point one way,
// see DESIGN.md "Layout": a cycle means a type or helper sits in the wrong layer).
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { importX } from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores(['dist/', 'node_modules/', '.tributary/', 'static/', 'coverage/']),
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      // Cycles through values; those through `import type` too are found by dpdm in `npm run lint`
      // (import-x skips type-only imports, and a type in the wrong layer is a cycle of the design).
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      // `async` on a method that does not await is deliberate here: it implements a
      // Promise-returning interface (Sink, LogConnector, ChildHandle), and a throw in it must
      // become a rejection, never a synchronous exception.
      '@typescript-eslint/require-await': 'off',
      // `_name` marks a parameter or binding that is there for its position; `...rest` siblings
      // are how an option is left out of a copy.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // Passing on what a `catch` caught (an `unknown`) as it is: wrapping it would hide its type.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      '@typescript-eslint/only-throw-error': ['error', { allowThrowingUnknown: true }],
    },
  },
  {
    // page.evaluate callbacks run in the browser: this Node project has no DOM types for them.
    files: ['test/integration/console.test.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { globals: globals.node },
  },
);
