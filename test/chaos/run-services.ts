/** Where a run's services were: written by the harness to `<run dir>/services.json`, read by inspect.ts. */
export interface RunServices {
  readonly brokerDir: string;
  readonly brokerPort: number;
  readonly controllerPort: number;
  readonly natsUrl: string;
}
