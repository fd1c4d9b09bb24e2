/* Exercise 03-flow-control: the interface your answer implements. */
#ifndef EXERCISE_H
#define EXERCISE_H

#include "transport.h"

/** The echo protocol, with flow control. Its state may be NULL. */
extern const protocol_t fc_echo_protocol;

#endif
