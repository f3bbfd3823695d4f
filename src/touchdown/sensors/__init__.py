"""touchdown.sensors: the only path from the truth state to the flight software.

``base``          measurement dataclasses, no truth imports: the one sensors module the FSW imports
``imu``           accelerometer + gyro triads → Δv, Δθ increments
``altimeter``     laser range finder / radar altimeter: body-fixed beams cast against the true terrain
``velocimeter``   Doppler velocimeter: surface-relative velocity, body axes
``star_tracker``  measured attitude quaternion
``faults``        REFERENCE §6 fault vocabulary: sensor faults and engine command filters

Randomness comes from :mod:`touchdown.noise` (counter-based, batch-independent). See docs/sensors.md.
This package's ``__init__`` deliberately imports nothing.
"""
