/**
 * The orphan sweep scenarios against moto's EC2 server. Skipped only off CI when moto is not
 * installed; with CI=true a missing moto fails this file.
 */
import t from 'tap';
import { onMoto } from './peers.js';
import { orphanScenarios } from './orphan-scenarios.js';

onMoto(t, 'moto orphan scenarios', (peer) => orphanScenarios(t, peer));
