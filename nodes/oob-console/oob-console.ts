import type { Node, NodeAPI, NodeDef } from 'node-red';
import { InputError } from '../../lib/errors';
import type { OobDeviceNode, OobMessage } from '../shared/types';
import { consolePath, registerConsoleRoutes } from './console-routes';

interface ConsoleDef extends NodeDef {
  device?: string;
  /** Where users reach the editor, e.g. https://gateway.example.com; the URL is relative without it. */
  baseUrl?: string;
}

/**
 * Answers each message with the address of a PC's console page (screen and serial console) in
 * msg.payload.url, so a flow can send "open the console" with an alert. The page itself asks for
 * the editor's login.
 */
export = function (RED: NodeAPI) {
  registerConsoleRoutes(RED);

  function OobConsole(this: Node, def: ConsoleDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const base = (def.baseUrl ?? '').trim().replace(/\/+$/, '');

    node.on('input', (msg: OobMessage, send, done) => {
      try {
        let id = def.device;
        if (typeof msg.device === 'string' && msg.device.trim()) {
          const wanted = msg.device.trim();
          const ids: string[] = [];
          RED.nodes.eachNode((n: { id: string; type: string; name?: string }) => {
            if (n.type === 'oob-device' && n.name === wanted) ids.push(n.id);
          });
          if (ids.length !== 1) throw new InputError(ids.length ? `${ids.length} devices are named "${wanted}"` : `no device named "${wanted}"`);
          id = ids[0];
        }
        const dev = id ? (RED.nodes.getNode(id) as OobDeviceNode | null) : null;
        if (!id || !dev) throw new InputError('no device: choose one in the node or set msg.device to a device name');
        const d = dev.device();
        if (!d.amt) throw new InputError(`${d.name ?? d.host} has no Intel AMT credentials: a console needs AMT`);
        const path = consolePath(RED, id);
        if (!path) throw new InputError("Node-RED's editor is disabled (httpAdminRoot: false): there is no console page");
        const url = `${base}${path}`;
        msg.payload = { url, kvm: `${url}#kvm`, sol: `${url}#sol`, device: d.name ?? d.host };
        send(msg as never);
        done();
      } catch (e) {
        node.status({ fill: 'red', shape: 'ring', text: (e as Error).message.slice(0, 60) });
        done(e as Error);
      }
    });
  }

  RED.nodes.registerType('oob-console', OobConsole as never);
};
