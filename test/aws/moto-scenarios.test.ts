/**
 * The shared AWS scenario suite against moto's EC2 server. Skipped only off CI when moto is not
 * installed; with CI=true a missing moto fails this file.
 */
import t from 'tap';
import { onMoto } from './peers.js';
import { sharedScenarios } from './scenarios.js';

onMoto(t, 'moto scenarios', (peer) => sharedScenarios(t, peer));
