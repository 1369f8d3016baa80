import type { ExampleApp } from './example-app.js';

/** The example apps the command line knows, by name: each module exports an {@link ExampleApp}. */
const APPS: Readonly<Record<string, string>> = {
  clickstream: '../clickstream/app.js',
  fraud: '../fraud/app.js',
  nexmark: '../nexmark/app.js',
};

/** The names `npm run example -- <app>` accepts. */
export const EXAMPLE_APP_NAMES = Object.keys(APPS);

/** A known app whose module cannot be loaded (not written yet, or broken). */
export class ExampleAppUnavailableError extends Error {
  override readonly name = 'ExampleAppUnavailableError';
}

function isExampleApp(value: unknown): value is ExampleApp {
  const app = value as Partial<ExampleApp> | null;
  return typeof app === 'object' && app !== null && typeof app.name === 'string' && typeof app.processors === 'function' && Array.isArray(app.outputs);
}

/**
 * Imports an app's module only when it is asked for, so that each app runs even when the other
 * is missing or broken. The module's default export, or any export that is an {@link ExampleApp}.
 *
 * @example
 * const app = await loadExampleApp('clickstream');
 */
export async function loadExampleApp(name: string): Promise<ExampleApp> {
  const path = APPS[name];
  if (path === undefined) throw new Error(`unknown app '${name}': use one of ${EXAMPLE_APP_NAMES.join(', ')}`);
  let module: Record<string, unknown>;
  try {
    module = (await import(path)) as Record<string, unknown>;
  } catch (err) {
    const missing = (err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes(`${name}/app`);
    throw new ExampleAppUnavailableError(
      missing ? `the ${name} app is not available: examples/${name}/app.ts does not exist yet` : `the ${name} app failed to load: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const app = isExampleApp(module.default) ? module.default : Object.values(module).find(isExampleApp);
  if (!app) throw new ExampleAppUnavailableError(`examples/${name}/app.ts exports no ExampleApp (a default export, or a named one with name, outputs, processors)`);
  return app;
}
