/**
 * System Defense and Agent Presence classes. No real captures exist for these (see
 * test/fixtures/SOURCES.md): property names and types follow Intel's AMT SDK class reference as
 * Intel's generated CIM framework mirrors it (AMT_*.mof, version 3.0 to 6.0).
 */
import type { ClassSchema } from '../../wsman/typing';

const FILTER_COMMON: ClassSchema = {
  FilterProfile: 'int',
  FilterDirection: 'int',
  ActionEventOnMatch: 'bool',
  FilterProfileData: 'int',
};

const ASSOCIATION: ClassSchema = { Antecedent: 'ref', Dependent: 'ref' };

export const DEFENSE_SCHEMAS: Record<string, ClassSchema> = {
  AMT_SystemDefensePolicy: {
    PolicyPrecedence: 'int',
    AntiSpoofingSupport: 'int',
    FilterCreationHandles: 'int[]',
    TxDefaultDrop: 'bool',
    TxDefaultMatchEvent: 'bool',
    TxDefaultCount: 'bool',
    RxDefaultDrop: 'bool',
    RxDefaultMatchEvent: 'bool',
    RxDefaultCount: 'bool',
  },
  'AMT_SystemDefensePolicy.GetTimeout': { Timeout: 'int' },
  AMT_IPHeadersFilter: {
    ...FILTER_COMMON,
    HdrIPVersion: 'int',
    HdrProtocolID: 'int',
    HdrSrcPortStart: 'int',
    HdrSrcPortEnd: 'int',
    HdrDestPortStart: 'int',
    HdrDestPortEnd: 'int',
    HdrDSCP: 'int[]',
    TCPFlagsOn: 'int[]',
    TCPFlagsOff: 'int[]',
  },
  AMT_Hdr8021Filter: {
    ...FILTER_COMMON,
    HdrProtocolID8021: 'int',
    HdrPriorityValue8021: 'int',
    HdrVLANID8021: 'int',
  },
  AMT_FilterInSystemDefensePolicy: ASSOCIATION,
  AMT_NetworkPortSystemDefensePolicy: ASSOCIATION,
  AMT_NetworkPortDefaultSystemDefensePolicy: ASSOCIATION,
  AMT_ActiveFilterStatistics: { ...ASSOCIATION, ReadCount: 'int', FilterMatched: 'bool', ActivationTime: 'datetime', LastResetTime: 'datetime' },
  AMT_GeneralSystemDefenseCapabilities: { GlobalMaxSupportedPolicies: 'int', GlobalMaxSupportedFilters: 'int' },
  CIM_EthernetPort: { EnabledState: 'int', RequestedState: 'int', PortType: 'int', LinkTechnology: 'int', Speed: 'int' },
  AMT_AgentPresenceWatchdog: { CurrentState: 'int', StartupInterval: 'int', TimeoutInterval: 'int', MonitoredEntity: 'int' },
  'AMT_AgentPresenceWatchdog.RegisterAgent': { SessionSequenceNumber: 'int', TimeoutInterval: 'int' },
  AMT_AgentPresenceWatchdogAction: { EventOnTransition: 'bool', ActionSd: 'int', ActionEac: 'bool', OldState: 'int', NewState: 'int' },
  AMT_AgentPresenceInterfacePolicy: { ...ASSOCIATION, Enabled: 'bool' },
  AMT_AgentPresenceCapabilities: { MaxTotalAgents: 'int', MaxTotalActions: 'int', MinGuaranteedActionListSize: 'int', MaxEacAgents: 'int' },
  IPS_HostBasedSetupService: { CurrentControlMode: 'int', AllowedControlModes: 'int[]', CertChainStatus: 'int' },
};
