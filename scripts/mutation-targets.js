// The modules `npm run mutate` mutation-tests, and for each the test files that check it. Only
// those tests run for a module (the whole suite would take hours per module on two cores); a test
// added for a module belongs in its list. Left out on purpose: tests that reach a module only in
// child processes (xml-cost.test.ts; a mutant never gets there), tests at megabyte sizes whose
// meaning spec/wsman-xml.test.ts checks at small limits (hostile-lan/xml-reader.test.ts: minutes
// per run over ~850 mutants), or only through the simulator
// (sim-fidelity-gwm, sim-digest: they check the simulator, and their module-level reads of
// captures would make every mutant "static", run against every test).
'use strict';

const TARGETS = {
  'lib/wol/magic-packet.ts': ['lib/wol/wol.test.ts', 'test/sim-wol-rmcp.test.ts', 'test/spec/magic-packet.test.ts', 'test/sim-codecs.test.ts', 'test/spec/magic-packet-edges.test.ts'],
  'lib/wsman/xml.ts': [
    'lib/wsman/xml.test.ts',
    'lib/wsman/xml-differential.test.ts',
    'lib/wsman/messages.test.ts',
    'test/spec/wsman-xml.test.ts',
    'test/spec/wsman-xml-edges.test.ts',
  ],
  'lib/wsman/digest.ts': ['lib/wsman/digest.test.ts', 'test/spec/digest.test.ts'],
  'lib/asf/pet.ts': [
    'lib/asf/pet.test.ts',
    'test/hostile-lan/binary-parsers.test.ts',
    'test/pet-freeipmi.test.ts',
    'test/spec/pet-fields.test.ts',
    'test/spec/pet-alert.test.ts',
    'test/spec/pet-repeats.test.ts',
  ],
  'lib/alerts/policy.ts': ['lib/alerts/engine.test.ts', 'nodes/shared/policy-check.test.ts', 'test/spec/alert-policy.test.ts', 'test/spec/alert-policy-edges.test.ts', 'test/spec/alert-policy-settings.test.ts'],
  'lib/amt/power.ts': ['test/sim-power.test.ts', 'test/wsman-client.test.ts', 'test/spec/amt-power.test.ts', 'test/spec/amt-power-edges.test.ts', 'test/sim-return-values.test.ts'],
  'lib/ipmi/packet.ts': ['lib/ipmi/codec.test.ts', 'test/hostile-lan/binary-parsers.test.ts', 'test/spec/ipmi-packet.test.ts'],
  'lib/asf/trap-parse.ts': ['lib/asf/trap-parse.test.ts', 'test/hostile-lan/binary-parsers.test.ts', 'test/alerts-bad-input.test.ts'],
};

module.exports = { TARGETS };
