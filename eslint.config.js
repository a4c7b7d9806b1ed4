// ESLint for TypeScript and Svelte 5 (typescript-eslint's and eslint-plugin-svelte's recommended rules).
// Formatting is Prettier's (npm run format); nothing here argues with it.
import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';

export default ts.config(
  { ignores: ['dist/', 'node_modules/', 'public/', 'lab-results/', 'test-results/', '.vite/'] },
  js.configs.recommended,
  ...ts.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.browser, ...globals.node, ...globals.worker, __LAB_VERSION__: 'readonly' },
    },
    rules: {
      // `_name` marks a parameter kept for its position in a signature.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // It flags every Map/Set/Date/URL made in a .svelte(.ts) file; ours are temporaries built and read inside one
      // function, or assigned whole to $state, never mutated in place while the page renders them.
      'svelte/prefer-svelte-reactivity': 'off',
    },
  },
  {
    // Code a newcomer can hold in their head: small modules, functions that read as one step of a procedure.
    files: ['src/**/*.ts', 'src/**/*.svelte'],
    rules: {
      'max-lines': ['error', { max: 300, skipBlankLines: false, skipComments: false }],
      'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: ts.parser, extraFileExtensions: ['.svelte'] } },
  },
);
