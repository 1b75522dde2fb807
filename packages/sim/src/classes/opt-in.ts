/**
 * IPS_OptInService: the user consent policy and the code on the PC's screen (../consent.ts holds
 * the rules). Property names, order and values as in the captures of AMT 12 (IPS_OptInService Get
 * and Pull; StartOptIn and CancelOptIn answering 2).
 */
import type { SimDevice } from '../device';
import { cancelOptIn, consentState, optInRequired, sendOptInCode, startOptIn } from '../consent';
import { applyWritable, ClassHandler, inputText } from './types';

const int = (v: unknown): number | undefined => (typeof v === 'string' || typeof v === 'number') && /^\s*\d+\s*$/.test(String(v)) ? Number(v) : undefined;

interface DisplayState {
  displayTimeout: number;
}

const display = (d: SimDevice) => d.classState<DisplayState>('IPS_OptInService:display', () => ({ displayTimeout: 300 }));

export const optInService: ClassHandler = {
  className: 'IPS_OptInService',
  commonNs: true,
  instances: (d) => {
    const s = consentState(d);
    return [
      {
        CanModifyOptInPolicy: d.controlMode === 'client' ? 0 : 1,
        CreationClassName: 'IPS_OptInService',
        ElementName: 'Intel(r) AMT OptIn Service',
        Name: 'Intel(r) AMT OptIn Service',
        OptInCodeTimeout: s.codeTimeoutSeconds,
        OptInDisplayTimeout: display(d).displayTimeout,
        OptInRequired: optInRequired(d),
        OptInState: s.state,
        SystemCreationClassName: 'CIM_ComputerSystem',
        SystemName: 'Intel(r) AMT',
      },
    ];
  },
  /** OptInRequired changes only in admin control mode (client control mode always requires consent). */
  put: (d, current, input) => {
    const next = applyWritable(current, input, ['OptInRequired', 'OptInDisplayTimeout', 'OptInCodeTimeout']);
    const s = consentState(d);
    const required = int(next.OptInRequired);
    if (d.controlMode !== 'client' && (required === 0 || required === 1 || required === 4294967295)) s.required = required;
    const codeTimeout = int(next.OptInCodeTimeout);
    if (codeTimeout !== undefined && codeTimeout >= 60 && codeTimeout <= 900) s.codeTimeoutSeconds = codeTimeout;
    const displayTimeout = int(next.OptInDisplayTimeout);
    if (displayTimeout !== undefined && displayTimeout >= 0) display(d).displayTimeout = displayTimeout;
    return optInService.instances(d)[0];
  },
  methods: {
    StartOptIn: ({ device }) => ({ returnValue: startOptIn(device) }),
    CancelOptIn: ({ device }) => ({ returnValue: cancelOptIn(device) }),
    SendOptInCode: ({ device, input }) => ({ returnValue: sendOptInCode(device, inputText(input, 'OptInCode')) }),
  },
};

export const optInClasses = [optInService];
