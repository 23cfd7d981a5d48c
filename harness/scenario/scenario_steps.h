/* scenario_steps.h - internal to the scenario loader: the steps section (scenario_steps.c). */
#ifndef BISE_SCENARIO_STEPS_H
#define BISE_SCENARIO_STEPS_H

#include "scenario_yaml.h"

/*
 * Load the steps sequence into ld->sc->steps, reporting every problem. Needs the cluster
 * (zones for targets) and max_fault_duration loaded first.
 */
void sy_load_steps(struct loader *ld, yaml_node_t *seq);

#endif
