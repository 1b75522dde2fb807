/**
 * Ways to tell whether a PC is up, for "wake and confirm":
 *  - amt:      AMT's power state reads "on" (needs AMT credentials; the truth about power);
 *  - presence: the host's RMCP presence responder answers. Only meaningful when it did not answer
 *              before the wake: AMT's engine and ASF NICs answer on standby power, while off;
 *  - tcp:      a TCP connection to a port the OS listens on (22, 3389, 445...) succeeds.
 * Each probe answers true/false and never throws for "not up yet"; only bad setup throws.
 */
import * as net from 'node:net';
import { acquireAmt } from '../amt/connect';
import { readPowerStatus } from '../amt/power';
import { Pinger } from '../asf/ping';
import { RMCP_PORT } from '../asf/rmcp';
import type { ManagedDevice } from '../device';
import { UnsupportedError } from '../errors';
import { acquireIpmi } from '../ipmi/connect';
import { ipmiPowerStatus } from '../ipmi/power';

export type ConfirmMethod = 'amt' | 'presence' | 'tcp' | 'ipmi';

export interface Probe {
  method: ConfirmMethod;
  /** True when the device is up; `timeoutMs` bounds one check. */
  check(timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  /** Last state seen, for the output ("off", "sleep"...), when the method knows one. */
  lastState?: string;
  close(): void;
}

export function amtProbe(device: ManagedDevice): Probe {
  if (!device.amt) throw new UnsupportedError(`${device.name ?? device.host} has no AMT credentials to confirm the wake with`);
  const lease = acquireAmt(device.amt);
  const probe: Probe = {
    method: 'amt',
    async check() {
      try {
        const s = await readPowerStatus(lease.client, { osPowerSaving: false });
        probe.lastState = s.state;
        return s.state === 'on';
      } catch (e) {
        // Auth, certificate and input problems do not go away by waiting: report them.
        const code = (e as { code?: string }).code;
        if (code === 'AUTH_FAILED' || code === 'TLS_PIN_MISMATCH' || code === 'TLS_UNPINNED' || code === 'BAD_INPUT') throw e;
        probe.lastState = 'unreachable';
        return false;
      }
    },
    close: () => lease.release(),
  };
  return probe;
}

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

// --- IPMI (issue 8): a server's power state from its BMC ---
export function ipmiProbe(device: ManagedDevice): Probe {
  if (!device.ipmi) throw new UnsupportedError(`${device.name ?? device.host} has no IPMI credentials to confirm the wake with`);
  const lease = acquireIpmi(device.ipmi);
  const probe: Probe = {
    method: 'ipmi',
    async check() {
      try {
        const s = await ipmiPowerStatus(lease.client);
        probe.lastState = s.state;
        return s.state === 'on';
      } catch (e) {
        // A wrong password or a cipher suite the BMC refuses does not go away by waiting.
        const code = (e as { code?: string }).code;
        if (code === 'AUTH_FAILED' || code === 'UNSUPPORTED' || code === 'BAD_INPUT') throw e;
        probe.lastState = 'unreachable';
        return false;
      }
    },
    close: () => lease.release(),
  };
  return probe;
}
