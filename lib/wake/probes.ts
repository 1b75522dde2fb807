/**
 * Ways to tell whether a PC is up, for "wake and confirm":
 *  - amt:      AMT's power state reads "on" (needs AMT credentials; the truth about power);
 *  - ipmi:     a server's BMC reports chassis power on (both through the device's driver);
 *  - presence: the host's RMCP presence responder answers. Only meaningful when it did not answer
 *              before the wake: AMT's engine and ASF NICs answer on standby power, while off;
 *  - tcp:      a TCP connection to a port the OS listens on (22, 3389, 445...) succeeds.
 * Each probe answers true/false and never throws for "not up yet"; only bad setup throws.
 */
import * as net from 'node:net';
import { Pinger } from '../asf/ping';
import { RMCP_PORT } from '../asf/rmcp';
import type { ManagedDevice } from '../device';
import { driverFor, driverKindOf } from '../drivers';
import { UnsupportedError } from '../errors';

export type ConfirmMethod = 'amt' | 'presence' | 'tcp' | 'ipmi';

export interface Probe {
  method: ConfirmMethod;
  /** True when the device is up; `timeoutMs` bounds one check. */
  check(timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  /** Last state seen, for the output ("off", "sleep"...), when the method knows one. */
  lastState?: string;
  close(): void;
}

/**
 * The power state from the device's management controller (AMT, or a server's BMC over IPMI),
 * through its driver. `method` must be how the device is driven.
 */
export function managementProbe(device: ManagedDevice, method: 'amt' | 'ipmi'): Probe {
  if (driverKindOf(device) !== method) throw new UnsupportedError(`${device.name ?? device.host} has no ${method === 'amt' ? 'AMT' : 'IPMI'} credentials to confirm the wake with`);
  const driver = driverFor(device);
  const probe: Probe = {
    method,
    async check() {
      const p = await driver.probePower();
      probe.lastState = p.state;
      return p.on;
    },
    close: () => driver.close(),
  };
  return probe;
}

export const amtProbe = (device: ManagedDevice): Probe => managementProbe(device, 'amt');
export const ipmiProbe = (device: ManagedDevice): Probe => managementProbe(device, 'ipmi');

export function presenceProbe(host: string, port = RMCP_PORT): Probe {
  const pinger = new Pinger();
  return {
    method: 'presence',
    async check(timeoutMs, signal) {
      const r = await pinger.ping(host, { port, timeoutMs, retries: 0, signal });
      return r.answered;
    },
    close: () => pinger.close(),
  };
}

export function tcpProbe(host: string, port: number): Probe {
  return {
    method: 'tcp',
    check(timeoutMs) {
      return new Promise((resolve) => {
        const socket = net.connect({ host, port });
        const done = (up: boolean) => {
          clearTimeout(timer);
          socket.destroy();
          resolve(up);
        };
        const timer = setTimeout(() => done(false), timeoutMs);
        socket.once('connect', () => done(true));
        socket.once('error', () => done(false));
      });
    },
    close: () => undefined,
  };
}
