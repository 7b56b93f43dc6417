/// What the safety evidence report says about each requirement besides its scenarios: the title
/// (`../shared/SAFETY.md`), the hazard it answers (docs/safety.md, "Hazards, requirements,
/// mitigations, tests", the hazard column, shortened) and the XCTest cases that prove what no
/// scenario can (a property test, a profile check, a process killed, a socket's permissions).
///
/// A static table: when docs/safety.md's table changes, this changes with it (ScenariosTests checks
/// that every requirement has an entry).
public enum SafetyRequirementCatalog {
    public struct Entry: Sendable, Equatable {
        public var requirement: RequirementID
        /// SAFETY.md's title ("Stops").
        public var title: String
        /// The hazard, short (docs/safety.md's hazard column).
        public var hazard: String
        /// Test cases in `Tests/` (Target.Class.method, or Class.method) that prove it beside the scenarios.
        public var tests: [String]
        /// Why no scenario can prove (part of) it, when that is so.
        public var notByScenario: String?

        public init(requirement: RequirementID, title: String, hazard: String, tests: [String], notByScenario: String? = nil) {
            self.requirement = requirement
            self.title = title
            self.hazard = hazard
            self.tests = tests
            self.notByScenario = notByScenario
        }
    }

    /// The entry of `requirement` (every requirement has one).
    public static func entry(_ requirement: RequirementID) -> Entry {
        entries[requirement.number - 1]
    }

    /// SR-1 … SR-25, in order.
    public static let entries: [Entry] = [
        make(1, "Link quality, in milliseconds",
              "the device stops answering (cable, USB, firmware hang); a host stall or slow link stops a patient's therapy for nothing",
              ["SessionTests.FirstSupervisorTests.testSR1MuteDeviceMidSessionStopsCat1At0Point6WatchdogThenCat0AtTheWatchdog",
               "SessionTests.FirstSupervisorTests.testSR1UnplugIsCat0InTheSameCycleAndEndsTheSession",
               "ControlTests.LinkQualityTests", "PTYIntegrationTests.SafetyProcessTests"]),
        make(2, "Never enable on silence", "enabling a device that cannot be supervised",
              ["SessionTests.SafetyRequirementTests.testSR2MuteAtStartFromAFaultScriptIsRefusedWithTheReason"]),
        make(3, "Firmware watchdog proven", "the host dies while the robot moves",
              ["SessionTests.SafetyRequirementTests.testSR3FirmwareWithoutAWatchdogIsRefusedAndLeftDisabled",
               "SessionTests.SafetyRequirementTests.testSR3HostGoneMidMotionDeviceIsAtZeroTorqueWithin50Milliseconds",
               "PTYIntegrationTests.SafetyProcessTests (kill -9 of the host)"],
              notByScenario: "the host's death (kill -9) is not a timeline action: a scenario runs inside the host it would kill"),
        make(4, "Only the loop feeds the watchdog", "a stray thread or old frame keeps a dead loop's robot alive",
              ["SessionTests.SafetyRequirementTests.testSR4WhileLatchedOnlyHeartbeatsGoOutAtLeastEvery20Milliseconds",
               "SimulatorTests.FirmwareBehaviourTests.testAResentCommandWithTheSameSequenceDoesNotFeedTheWatchdog",
               "SimulatorTests.FirmwareBehaviourTests.testHeartbeatsDoNotFeedTheWatchdog"],
              notByScenario: "a scenario shows the watchdog fed in a state without motion; what goes on the wire each cycle (heartbeat or command, sequence numbers, the sending thread) is not in what a scenario observes"),
        make(5, "No stale or stepped command", "a command computed from old data, or a step at start or resume",
              ["SessionTests.SafetyRequirementTests.testSR5ACycleWhoseStateIsOlderThanTheGoodAgeSendsALocalHoldNotATorqueFromTheOldState",
               "SessionTests.SafetyRequirementTests.testSR5ResumeStartsFromTheMeasuredStateWithoutATorqueStep",
               "SessionTests.SafetyRequirementTests.testR2RepliesDelayedBy8MillisecondsDegradeTheSessionWithoutOscillation"],
              notByScenario: "the command of each cycle (local hold or torque, its step at resume) is checked from the black box by the tests"),
        make(6, "Last-stage clamp", "a controller bug outputs NaN, ±Inf, huge or flipped torques",
              ["SessionTests.LastStageClampPropertyTests.testSR6AMillionAdversarialOutputsGiveZeroOutOfRangeWireCommands", "ControlTests.CommandClampTests"],
              notByScenario: "a property test of 10⁶ adversarial controller outputs: no simulator fault makes a controller output NaN"),
        make(7, "Position limits", "the joint leaves its range",
              ["SessionTests.SafetyRequirementTests.testSR7PushedPastTheSoftLimitByMoreThan2DegreesStopsCat1ThenHardLimitCat0",
               "SessionTests.SafetyRequirementTests.testSR7PastTheSoftLimitTheClampOnlyLetsTheJointCreepInward",
               "SessionTests.SafetyRequirementTests.testSR7APatientRangeOnlyNarrowsTheLimits", "ControlTests.SupervisorInterlockTests"]),
        make(8, "Measured velocity", "the limb moves too fast",
              ["SessionTests.SafetyRequirementTests.testSR8ASuddenSpasmThatFlingsTheWristIsCat0OnOverspeedInTheSameCycle",
               "ControlTests.SupervisorInterlockTests"]),
        make(9, "Interaction force", "the robot pushes on (or is pushed by) the patient too hard",
              ["SessionTests.SafetyRequirementTests.testSR9ASustainedPushAboveTheTripStopsCat1After50Milliseconds",
               "ControlTests.SupervisorInterlockTests.testSR9ThirtyMillisecondSpikeDoesNotTripButFiftyMillisecondsDoes",
               "SessionTests.TherapyModeTests.testASpasmInASeverelyImpairedPatientTripsSR9ButTheirTremorDoesNot"]),
        make(10, "Plausibility", "a sensor lies (an encoder jumps, freezes or wraps; a value no joint can have)",
              ["SessionTests.SafetyRequirementTests.testSR10AnEncoderJumpStopsCat1InTheNextCycle",
               "SessionTests.SafetyRequirementTests.testSR10AFrozenEncoderIsCaughtByTheHostBeforeTheFirmwaresOverSpeedCut",
               "SessionTests.SafetyRequirementTests.testSR10ACleanCounterWrapIsNotAJump", "ControlTests.SupervisorInterlockTests"]),
        make(11, "Device faults", "the device detects trouble (heat, overload)",
              ["SessionTests.SafetyRequirementTests.testSR11OverTemperatureIsAHostFaultWithTheDeviceCodeWithinOneCycleAndNeverClearedByTheHost",
               "SessionTests.FirstSupervisorTests.testDeviceFaultLatchesWithTheDeviceCodeWithinOneCycle"]),
        make(12, "Stops", "someone must stop it now",
              ["SessionTests.SafetyRequirementTests.testSR12OperatorEstopPauseAndStopActInTheNextCycle",
               "SessionTests.SafetyRequirementTests.testSR12DeviceEstopIsCat0AndReleasingItNeverRestarts",
               "SessionTests.SafetyRequirementTests.testSR12AnEstopDuringTheDirectionTestIsTakenWithinOneCycleAndTheExerciseNeverStarts",
               "PTYIntegrationTests.DemoEndToEndTests (SIGINT, SIGTERM)", "SessionTests.ControlServerTests.testAnEstopBroadcastReachesEverySessionAndReportsEach"],
              notByScenario: "signals (SIGINT, SIGTERM) and an e-stop broadcast to several sessions are process tests"),
        make(13, "A Cat-1 stop always finishes", "a stop that cannot brake",
              ["SessionTests.SafetyRequirementTests.testSR13ACat1StopThatCannotBrakeBecomesCat0At200Milliseconds"]),
        make(14, "Loop timing", "the host cannot keep time, or a rate the watchdog cannot cover",
              ["ControlTests.LinkQualityTests", "ProfilesTests.HardwareProfileTests.testARateRangeTheWatchdogCannotCoverIsRejected",
               "SessionTests.FirstSupervisorTests.testSR14AStallBeforeTheCommandOf0Point6WatchdogStopsCat1EvenThoughTheReplyIsFresh",
               "ControlTests.SupervisorInterlockTests"],
              notByScenario: "a stall of the host's own loop is not a simulator fault; the tests stall the virtual clock"),
        make(15, "Trackers", "tracker data wrong or late (AR/VR modes, mirror therapy)",
              ["SessionTests.MirrorModeTests.testMirrorStopsCat1WithinThreeFramesWhenTheReferenceGoesStale",
               "SessionTests.MirrorModeTests.testAFrozenHiddenOrInaccurateReferenceStopsCat1WithItsOwnCause",
               "ControlTests.SupervisorInterlockTests", "PTYIntegrationTests.MirrorCommandTests.testAStoppedStreamStopsTheRobotCat1ThroughSR15"]),
        make(16, "Workspace", "the hand leaves the workspace",
              ["SessionTests.TrackerSessionTests.testSR16AToolThatLeavesTheWorkspaceByMoreThan20MillimetersStopsTheSessionCat1",
               "SessionTests.TrackerSessionTests.testSR16AWorkspaceTrackerThatStopsUpdatingStopsTheSessionAsStale",
               "ControlTests.SupervisorInterlockTests"]),
        make(17, "Identity, units, sign", "wrong device, wrong units, reversed sign",
              ["SessionTests.SafetyRequirementTests.testSR17ADeviceThatIsNotTheProfilesRobotIsRefusedAtIdentify",
               "SessionTests.SafetyRequirementTests.testSR17AReversedEncoderIsRefusedBeforeAnythingMoves",
               "ProfilesTests.HardwareProfileTests", "ControlTests.DirectionCheckTests"],
              notByScenario: "units in every key and unknown keys refused are profile-loader tests"),
        make(18, "Patient release", "patient trapped in a stopped robot",
              ["SessionTests.SafetyRequirementTests.testSR18ReleaseGivesZeroTorqueOnlyWhileHeldAndAtStandstill",
               "ControlTests.SupervisorInterlockTests"]),
        make(19, "Black box", "nobody can tell afterwards what happened",
              ["SessionTests.SafetyRequirementTests.testSR19AFaultWritesTheLastFiveSecondsAsMCAPWithTheTransitions"],
              notByScenario: "the black box's content (5 s of every cycle, the transitions) is read back by the test; a scenario checks the file was written"),
        make(20, "Per-patient torque cap", "a patient's torque limit (the therapist's prescription) exceeded",
              ["SessionTests.LastStageClampPropertyTests",
               "SessionTests.SafetyRequirementTests.testSR24TheSessionWritesItsLimitsIntoTheFirmwareBeforeEnableAndRefusesAFirmwareThatIgnoresThem"]),
        make(21, "Speed near the end of range", "a Cat 1 stop that cannot stop before the hard stop",
              ["ProfilesTests.HardwareProfileTests.testAQuickStopTooWeakForTheDeadlineOrTheMarginIsRejected"],
              notByScenario: "a check of the profile when it is loaded: a scenario names a shipped profile, which passes it"),
        make(22, "Patient stop", "the patient wants it to stop",
              ["SessionTests.SafetyRequirementTests.testSR22ThePatientsStopButtonStopsTheExerciseCat1InTheCycleItsStateArrives",
               "ControlTests.SupervisorTests"]),
        make(23, "Stop verified, clocks cross-checked", "a stop the device did not carry out; a device clock that runs off",
              ["SessionTests.SafetyRequirementTests.testSR23ADeviceClockRunningFivePercentFastIsStoppedCat1",
               "ControlTests.SupervisorTests.testSR23ATorqueOffTheDeviceDoesNotConfirmWithinTheWatchdogPeriodLatchesStopNotConfirmed"]),
        make(24, "Limits in the firmware too", "the host is the only channel",
              ["SessionTests.SafetyRequirementTests.testSR24TheSessionWritesItsLimitsIntoTheFirmwareBeforeEnableAndRefusesAFirmwareThatIgnoresThem",
               "SimulatorTests.SafetyLimitConfigurationTests"]),
        make(25, "Who may command", "someone else commands the robot; a device that ignores commands",
              ["SessionTests.ControlServerTests", "SessionTests.SafetyRequirementTests.testSR25AFirmwareThatIgnoresCommandsIsStoppedCat1At0Point4Watchdog",
               "ControlTests.SupervisorTests"],
              notByScenario: "the control socket's owner, permissions and peer credentials are checked by ControlServerTests, not by a timeline"),
    ]

    private static func make(_ number: Int, _ title: String, _ hazard: String, _ tests: [String], notByScenario: String? = nil) -> Entry {
        Entry(requirement: RequirementID(number: number)!, title: title, hazard: hazard, tests: tests, notByScenario: notByScenario)
    }
}
