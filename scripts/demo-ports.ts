/**
 * Every port the demo opens, from one base (DEMO_PORT_BASE), so a demo can be kept apart from
 * other services and from a second demo. Without a base: the editor on PORT (1880), the broker on
 * MQTT_PORT (1883), everything else on free ports.
 *
 *   base + 0        Node-RED editor (HTTP)
 *   base + 1        MQTT broker
 *   base + 2        Wake-on-LAN listener of the simulated fleet (UDP)
 *   base + 3, + 4   simulated server BMCs (IPMI, UDP)
 *   base + 10 ...   alert-in nodes: PET traps (UDP) and AMT event pushes (TCP), two ports each
 *   base + 100 + i  simulated PC i: AMT (HTTPS)
 *   base + 200 + i  simulated PC i: redirection (IDE-R)
 *   base + 300 + i  simulated PC i: RMCP presence (UDP)
 */
export interface DemoPorts {
  /** True when every port is fixed (a base was given): a busy port is an error, not a fallback. */
  fixed: boolean;
  editor: number;
  mqtt: number;
  /** 0 = a free port. */
  wol: number;
  bmc: number;
  alerts: number;
  amt: number;
  redirection: number;
  rmcp: number;
}

export const MAX_DEMO_DEVICES_WITH_BASE = 100;
const SPAN = 300 + MAX_DEMO_DEVICES_WITH_BASE;

export function demoPorts(base: string | undefined, devices: number, env: NodeJS.ProcessEnv = process.env): DemoPorts {
  if (base === undefined || base === '') {
    return { fixed: false, editor: Number(env.PORT || 1880), mqtt: Number(env.MQTT_PORT || 1883), wol: 0, bmc: 0, alerts: 0, amt: 0, redirection: 0, rmcp: 0 };
  }
  const b = Number(base);
  if (!Number.isInteger(b) || b < 1024 || b + SPAN - 1 > 65535) throw new Error(`DEMO_PORT_BASE must be a whole number from 1024 to ${65535 - SPAN + 1} (the demo uses ${SPAN} ports from it); got "${base}"`);
  if (devices > MAX_DEMO_DEVICES_WITH_BASE) throw new Error(`with DEMO_PORT_BASE the demo runs at most ${MAX_DEMO_DEVICES_WITH_BASE} simulated PCs; DEMO_DEVICES is ${devices}`);
  return { fixed: true, editor: b, mqtt: b + 1, wol: b + 2, bmc: b + 3, alerts: b + 10, amt: b + 100, redirection: b + 200, rmcp: b + 300 };
}
