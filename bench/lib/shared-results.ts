/**
 * Figures one scenario leaves for a later one in the same `npm run bench`: tributary's records/s
 * per keyed scenario (the latency scenario runs the stateless pipeline at half of it).
 */
export const keyedScenarioRates = new Map<string, number>();
