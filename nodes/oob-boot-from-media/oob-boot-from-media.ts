import type { Node, NodeAPI, NodeDef, NodeMessage, NodeStatus } from 'node-red';
import { BOOT_TARGETS, canonicalBootTarget } from '../../lib/amt/boot';
import { deviceInfo } from '../../lib/device';
import { BootEvent, BootFinal, BootJob, BootOutcome, BootRequest, driverFor } from '../../lib/drivers';
import { errorFromData } from '../../lib/drivers/error-data';
import { OobError } from '../../lib/errors';
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

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

function progressText(p: { fraction: number; rate: number }): string {
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
    const mine = new Set<BootJob>();
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
      if (action === 'stop') {
        node.status(busyStatus('stopping…'));
        stopAll().then(() => {
          node.status({ fill: 'grey', shape: 'ring', text: 'stopped' });
          done();
        }, done);
        return;
      }
      try {
        const target = targetOf(msg);
        const device = resolveDevice(RED, configured, msg);
        const info = deviceInfo(device);
        const driver = driverFor(device);
        let booted = false;
        const onEvent = (e: BootEvent) =>
          node.status(e.type === 'phase' ? busyStatus(`${target}: ${e.text}`) : { fill: booted ? 'green' : 'yellow', shape: 'dot', text: progressText(e) });
        const request: BootRequest = {
          target,
          imageDirectory: def.imageDir,
          image: text(msg.image) ?? def.image,
          https: target === 'https' ? { url: text(msg.url) ?? def.url ?? '', serverCertSha256: def.certHash || undefined } : undefined,
          power: def.power === 'none' ? 'none' : 'auto',
          timeoutMs,
          stopAfterBoot: def.stopAfterBoot === true,
        };
        driver.startBoot(request, onEvent).then(
          (job) => {
            mine.add(job);
            job.outcome.then(
              (o: BootOutcome) => {
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
            void job.final.then((f: BootFinal) => {
              mine.delete(job);
              driver.close();
              if (!booted) return;
              if (f.error) {
                node.status(errorStatus(errorFromData(f.error)));
                node.error(new OobError('CLOSED', `IDE-R session ended after the boot: ${f.error.message}`), msg as NodeMessage);
              } else {
                node.status({ fill: 'grey', shape: 'ring', text: `IDE-R done ${mb(f.bytesServed)}` });
              }
            });
          },
          (e: Error) => {
            driver.close();
            node.status(errorStatus(e));
            done(e);
          },
        );
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
