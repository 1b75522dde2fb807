import type { NodeAPI, NodeDef } from 'node-red';
import { Policy } from '../../lib/alerts/policy';
import { PolicyDef, policyFromDef } from '../shared/policy-def';

import type { OobAlertPolicyNode } from '../shared/types';

export = function (RED: NodeAPI) {
  function OobAlertPolicy(this: OobAlertPolicyNode, def: NodeDef & PolicyDef) {
    RED.nodes.createNode(this, def);
    this.policy = () => new Policy(policyFromDef(def));
  }
  RED.nodes.registerType('oob-alert-policy', OobAlertPolicy as never);
};
