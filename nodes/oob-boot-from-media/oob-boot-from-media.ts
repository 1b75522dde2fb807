import type { Node, NodeAPI, NodeDef, NodeMessage, NodeStatus } from 'node-red';
import { acquireAmt } from '../../lib/amt/connect';
import { BOOT_TARGETS, canonicalBootTarget, isIderTarget } from '../../lib/amt/boot';
import { bootFromMedia, MediaBoot, MediaBootFinal, MediaBootOutcome } from '../../lib/amt/boot-media';
import { ConsentCodes } from '../../lib/amt/consent-codes';
import type { ConsentPrompt } from '../../lib/amt/opt-in';
import type { IderProgress } from '../../lib/amt/redirection/ider-session';
import { deviceInfo, deviceLabel } from '../../lib/device';
import { InputError, OobError, UnsupportedError } from '../../lib/errors';
import { ipmiBootTarget } from '../../lib/ipmi/boot';
import { withIpmi } from '../../lib/ipmi/connect';
import { resolveDevice } from '../shared/resolve-device';
import { busyStatus, errorStatus } from '../shared/status';
import type { OobDeviceNode, OobMessage } from '../shared/types';

interface BootDef extends NodeDef {
  device?: string;
  target?: string;
  image?: string;
  imageDir?: string;
  url?: string;
  certHash?: string;
  power?: 'auto' | 'none';
  /** Seconds from the request to the device loading its boot image. */
  timeout?: string | number;
  stopAfterBoot?: boolean;
}

/** One boot from media per device at a time, across every node of the runtime. */
const running = new Map<string, MediaBoot>();

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

function progressText(p: IderProgress): string {
  return `IDE-R ${Math.floor(p.fraction * 100)}% ${(p.rate / 1e6).toFixed(1)} MB/s`;
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

export = function (RED: NodeAPI) {
  function OobBootFromMedia(this: Node, def: BootDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const configured = def.device ? (RED.nodes.getNode(def.device) as OobDeviceNode | null) ?? undefined : undefined;
    const mine = new Set<MediaBoot>();
    /** Boots of this node waiting for the code on their PC's screen, by host. */
    const consentCodes = new ConsentCodes();
    const timeoutMs = (Number(def.timeout) > 0 ? Number(def.timeout) : 300) * 1000;

    function stopAll(): Promise<unknown> {
      return Promise.all([...mine].map((b) => b.stop().catch(() => undefined)));
    }

    function targetOf(msg: OobMessage): string {
      const asked = text(msg.target) ?? (text(msg.payload) && (BOOT_TARGETS as readonly string[]).includes(String(msg.payload).trim().toLowerCase()) ? text(msg.payload) : undefined);
      return canonicalBootTarget(asked ?? def.target ?? 'pxe');
    }

    node.on('input', (raw, send, done) => {
      const msg = raw as OobMessage;
      const action = text(msg.action) ?? text(msg.payload);
      if (msg.consentCode !== undefined) {
        try {
          // A code for the device named in msg.device, else for the one boot of this node that waits.
          consentCodes.give(msg.device ? resolveDevice(RED, configured, msg).host.toLowerCase() : undefined, msg.consentCode);
          node.status(busyStatus('checking consent code'));
          done();
        } catch (e) {
          done(e as Error);
        }
        return;
      }
      if (action === 'stop') {
        node.status(busyStatus('stopping…'));
        stopAll().then(() => {
          node.status({ fill: 'grey', shape: 'ring', text: 'stopped' });
          done();
        }, done);
        return;
      }
      let boot: MediaBoot;
      let key: string;
      let release: () => void;
      let target: string;
      try {
        target = targetOf(msg);
        const device = resolveDevice(RED, configured, msg);
        // --- IPMI (issue 8): a server without AMT boots through its BMC's boot override ---
        if (!device.amt && device.ipmi) {
          const info = deviceInfo(device);
          node.status(busyStatus(`${target}: boot override`));
          withIpmi(device.ipmi, (c) => ipmiBootTarget(c, target, { power: def.power === 'none' ? 'none' : 'auto', host: device.host })).then(
            (o) => {
              node.status({ fill: 'green', shape: 'dot', text: `${o.target} ${o.power === 'none' ? 'armed' : 'requested'}` });
              send(Object.assign(msg, { topic: msg.topic ?? info.name ?? info.host, payload: { ...o, protocol: 'ipmi', device: info } }) as NodeMessage);
              done();
            },
            (e: Error) => {
              node.status(errorStatus(e));
              done(e);
            },
          );
          return;
        }
        if (!device.amt) throw new UnsupportedError(`${deviceLabel(device)} has no AMT or IPMI credentials`);
        key = device.host.toLowerCase();
        if (running.has(key)) throw new InputError(`a boot from media is already running for ${deviceLabel(device)}; send "stop" first`);
        const amt = device.amt;
        const lease = acquireAmt(amt);
        release = lease.release;
        const info = deviceInfo(device);
        boot = bootFromMedia(lease.client, device.host, {
          target,
          imageDirectory: def.imageDir,
          image: text(msg.image) ?? def.image,
          https: target === 'https' ? { url: text(msg.url) ?? def.url ?? '', serverCertSha256: def.certHash || undefined } : undefined,
          power: def.power === 'none' ? 'none' : 'auto',
          timeoutMs,
          stopAfterBoot: def.stopAfterBoot === true,
          redirection: isIderTarget(canonicalBootTarget(target))
            ? {
                host: amt.host,
                port: amt.redirectionPort,
                tls: amt.tls,
                username: amt.username,
                password: amt.password,
                fingerprint: amt.fingerprint,
                trustOnFirstUse: amt.trustOnFirstUse,
                onFingerprintTrusted: amt.onFingerprintTrusted,
                timeoutMs: amt.timeoutMs,
              }
            : undefined,
          consent: {
            askCode: (prompt: ConsentPrompt) => {
              node.status({ fill: 'yellow', shape: 'ring', text: 'waiting for consent code' });
              const ask = RED.util.cloneMessage(msg) as OobMessage;
              ask.topic = msg.topic ?? info.name ?? info.host;
              ask.payload = { result: 'consent-required', target, codeTimeoutSeconds: prompt.codeTimeoutSeconds, attempt: prompt.attempt, device: info };
              send(ask as NodeMessage);
              return consentCodes.wait(key);
            },
          },
        });
        running.set(key, boot);
        mine.add(boot);
        let booted = false;
        boot.on('phase', (p: string) => node.status(busyStatus(`${target}: ${p}`)));
        boot.on('progress', (p: IderProgress) => node.status({ fill: booted ? 'green' : 'yellow', shape: 'dot', text: progressText(p) }));
        boot.outcome.then(
          (o: MediaBootOutcome) => {
            booted = o.result === 'booted';
            const status: NodeStatus =
              o.result === 'booted'
                ? { fill: 'green', shape: 'dot', text: `booted ${o.label ?? ''}`.trim() }
                : o.result === 'stopped'
                  ? { fill: 'grey', shape: 'ring', text: 'stopped' }
                  : { fill: 'green', shape: 'dot', text: `${o.target} ${o.power === 'none' ? 'armed' : 'requested'}` };
            node.status(status);
            send(Object.assign(msg, { topic: msg.topic ?? info.name ?? info.host, payload: { ...o, device: info } }) as NodeMessage);
            done();
          },
          (e: Error) => {
            node.status(errorStatus(e));
            done(e);
          },
        );
        boot.final.then((f: MediaBootFinal) => {
          consentCodes.forget(key);
          running.delete(key);
          mine.delete(boot);
          release();
          if (!booted) return;
          if (f.error) {
            node.status(errorStatus(f.error));
            node.error(new OobError('CLOSED', `IDE-R session ended after the boot: ${f.error.message}`), msg as NodeMessage);
          } else {
            node.status({ fill: 'grey', shape: 'ring', text: `IDE-R done ${mb(f.bytesServed)}` });
          }
        });
      } catch (e) {
        node.status(errorStatus(e));
        done(e as Error);
      }
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      const t = setTimeout(done, 5000);
      stopAll().then(() => {
        clearTimeout(t);
        done();
      });
    });
  }

  RED.nodes.registerType('oob-boot-from-media', OobBootFromMedia as never);
};
