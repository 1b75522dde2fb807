/**
 * Every simulated class. To add an area (system defense, inventory, events...): write
 * lib/sim/classes/<area>.ts exporting a ClassHandler[] and add one line below.
 */
import { accountClasses } from './accounts';
import { agentPresenceClasses } from './agent-presence';
import { bootClasses } from './boot';
import { defenseClasses } from './defense';
import { inventoryClasses } from './inventory';
import { logClasses } from './logs';
import { networkClasses } from './network';
import { powerClasses } from './power';
import { remoteAccessClasses } from './remote-access';
import { settingsClasses } from './settings';
import { setupClasses } from './setup';
import { timeClasses } from './time';
import type { ClassHandler } from './types';

export const defaultClasses: ClassHandler[] = [
  ...powerClasses,
  ...inventoryClasses,
  ...settingsClasses,
  ...setupClasses,
  ...bootClasses,
  ...logClasses,
  ...remoteAccessClasses,
  ...accountClasses,
  ...networkClasses,
  ...timeClasses,
  // System Defense and Agent Presence (issue 5)
  ...defenseClasses,
  ...agentPresenceClasses,
];

export type { ClassHandler, MethodContext, MethodResult } from './types';
