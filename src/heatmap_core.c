/* heatmap_core.c: placeholder until the algorithm lands. */
extern int heatmap_core_placeholder;
int heatmap_core_placeholder;
