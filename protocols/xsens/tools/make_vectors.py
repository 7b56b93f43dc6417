#!/usr/bin/env python3
"""Writes protocols/xsens/vectors/*.json from the reference implementation (xsens.py).

Run from anywhere:
    python3 protocols/xsens/tools/make_vectors.py

Three kinds of vector (README §9):
- "xsens-document": a worked example printed in Xsens's own documentation, byte for byte;
- "capture": frames recorded from real MTi devices and published in open-source repositories
  (the repository, commit, file and position are in the vector's "source");
- "rehabhost": our own, for every message the host sends or accepts and every receiver rule.

The output is deterministic: regenerating must not change a vector unless the spec changed. Every
capture is checked here before it is written: its checksum must hold and, where the publisher printed
decoded values, the reference decoder must agree with them.
"""
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import xsens as xs  # noqa: E402

OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vectors"))
H2D = "host_to_device"
D2H = "device_to_host"


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", "").replace("\n", ""))


# ---------------------------------------------------------------------------------------------
# Sources

USER_MANUAL = "Xsens MTi User Manual, MTi 10-series and MTi 100-series, document MT0605P.E"
LEGACY_MANUAL = "Xsens MTi and MTx User Manual and Technical Documentation, document MT0100P.N"


def document(document_name, url, section, note=None):
    s = {"kind": "xsens-document", "document": document_name, "url": url, "section": section}
    if note:
        s["note"] = note
    return s


SCOTT_REPO = "Scottapotamas/xsens-mti"
SCOTT_COMMIT = "2d29bb8dfe0b5462951db18fecc4a303f5883c75"
SCOTT_DEVICE = "MTi-300-2A5G4, firmware 1.8.2 build 37, device ID 037003F8 (docs/mtmanager_packets.md, 'General Info')"


def scott(path, where, note=None):
    s = {"kind": "capture", "device": SCOTT_DEVICE, "recorded_with": "Xsens MT Manager (docs/mtmanager_packets.md)",
         "repository": SCOTT_REPO, "commit": SCOTT_COMMIT, "path": path, "where": where,
         "url": "https://github.com/%s/blob/%s/%s" % (SCOTT_REPO, SCOTT_COMMIT, path), "license": "Apache-2.0"}
    if note:
        s["note"] = note
    return s


EINRIDE_REPO = "einride/xsens-go"
EINRIDE_COMMIT = "cab43081c6079641d7196dcb298e6c5a9fd09689"
EINRIDE_DEVICE = "Xsens MTi-G-710 (README: 'primarily been tested on the Xsens MTi-G-710'), recorded 2019-01-20"


def einride(dataset, offset, length, note):
    path = "testdata/%d/output.bin" % dataset
    return {"kind": "capture", "device": EINRIDE_DEVICE,
            "recorded_with": "record_test.go (TestRecord_TestData): 100 messages read from the serial port",
            "repository": EINRIDE_REPO, "commit": EINRIDE_COMMIT, "path": path,
            "where": "bytes %d..%d of the file" % (offset, offset + length),
            "decoded_reference": "testdata/%d/output.golden (the publisher's own decoding)" % dataset,
            "url": "https://github.com/%s/blob/%s/%s" % (EINRIDE_REPO, EINRIDE_COMMIT, path), "license": "MIT",
            "note": note}


def ours(basis):
    return {"kind": "rehabhost", "basis": basis}


VECTORS = []


def add(name, description, direction, wire, canonical, source):
    VECTORS.append({"name": name, "description": description, "direction": direction, "wire": bytes(wire),
                    "canonical": canonical, "source": source})


# ---------------------------------------------------------------------------------------------
# Worked examples of Xsens's documentation

add("doc-req-did", "ReqDID, the example of 'Message usage': request the device ID", H2D, h("FA FF 00 00 01"), True,
    document(USER_MANUAL, "https://manualshive.com/ru/manual/xsens/mti-10-imu/889678?page=56",
             "§5.3.2 Message usage, first example (page 52)",
             "The reply is printed as FA FF 01 04 HH HL LH LL CS, with no concrete bytes."))
add("doc-req-baudrate", "ReqBaudrate, the second example of 'Message usage': a message RehabHost does not use", H2D,
    h("FA FF 18 00 E9"), False,
    document(USER_MANUAL, "https://manualshive.com/ru/manual/xsens/mti-10-imu/889678?page=56",
             "§5.3.2 Message usage, second example (page 52)",
             "MID 0x18 is outside RehabHost's subset (README §3): checksum-valid, rejected as unknown."))
add("doc-legacy-req-output-mode", "ReqOutputMode of the legacy MTi/MTx manual: checksum-valid, MID unknown to RehabHost",
    H2D, h("FA FF D0 00 31"), False,
    document(LEGACY_MANUAL, "http://38.142.81.21:8001/manual/dage-mti/excel-series/user-manual-english/page-32.html",
             "§5.3.2 Message usage, example 'Request current output mode' (page 27)"))
add("doc-legacy-set-output-mode-ack", "SetOutputModeAck of the legacy MTi/MTx manual: checksum-valid, MID unknown",
    D2H, h("FA FF D1 00 30"), False,
    document(LEGACY_MANUAL, "http://38.142.81.21:8001/manual/dage-mti/excel-series/user-manual-english/page-32.html",
             "§5.3.2 Message usage, example 'Set the output mode' (page 27)"))
add("doc-legacy-req-did", "ReqDID as printed in the legacy MTi/MTx manual (the same bytes as the MTi manual's)", H2D,
    h("FA FF 00 00 01"), True,
    document(LEGACY_MANUAL, "http://38.142.81.21:8001/manual/dage-mti/excel-series/user-manual-english/page-31.html",
             "§5.3.2 Message usage, example 'Requesting the device ID' (page 26)"))

# ---------------------------------------------------------------------------------------------
# Real captures: an MTi-300 recorded with MT Manager (Scottapotamas/xsens-mti)

MD = "docs/mtmanager_packets.md"
TESTS = "test/test_xsens_mti_parse_messages.c"

# "Configuration Example: bytes written to IMU", printed as LEN, DATA, CS after FA FF MID.
add("capture-mti300-go-to-config", "GoToConfig as MT Manager wrote it to an MTi-300", H2D,
    h("FA FF 30 00 D1"), True, scott(MD, "'Configuration Example', GoToConfig - 0x30 (printed: 00 D1)"))
add("capture-mti300-set-output-configuration",
    "SetOutputConfiguration as MT Manager wrote it: 12 outputs, time and status at 0xFFFF (every sample), "
    "quaternion/acceleration/rate of turn at 400 Hz", H2D,
    h("FA FF C0 30 10 20 FF FF 10 60 FF FF 20 10 01 90 40 20 01 90 40 10 01 90 40 30 01 90 80 20 01 90 80 30 01 90"
      " C0 20 00 64 08 10 00 0A 30 10 00 32 E0 20 FF FF 99"), True,
    scott(MD, "'Configuration Example', SetOutputConfiguration - 0xC0"))
add("capture-mti300-req-fw-rev", "ReqFWRev as MT Manager wrote it", H2D, h("FA FF 12 00 EF"), True,
    scott(MD, "'Configuration Example', ReqFWRev - 0x12 (printed: 00 EF)"))
add("capture-mti300-go-to-measurement", "GoToMeasurement as MT Manager wrote it", H2D, h("FA FF 10 00 F1"), True,
    scott(MD, "'Configuration Example', GoToMeasurement - 0x10 (printed: 00 F1)"))

CAPTURED_REPLIES = [
    ("go-to-config-ack", "test_parse_GoToConfigAck", "faff3100d0"),
    ("string-output-type-ack", "test_parse_StringOutputType", "faff8f0072"),
    ("output-configuration", "test_parse_OutputConfiguration", "faffc1081020ffff1060ffff9c"),
    ("init-mt-results", "test_parse_InitMTResults", "faff0304037003f88c"),
    ("configuration", "test_parse_Configuration",
     "faff0d76037003f8048000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "0001037003f8000000000000000100270108024905019b"),
    ("firmware-rev", "test_parse_FirmwareRev", "faff130b010802000000250001153469"),
    ("go-to-measurement-ack", "test_parse_GotoMeasurementAck", "faff1100f0"),
]
DESCRIPTIONS = {
    "go-to-config-ack": "GoToConfigAck from an MTi-300",
    "string-output-type-ack": "SetStringOutputTypeAck (MID 0x8F, no data) from an MTi-300",
    "output-configuration": "OutputConfiguration (the ack, 0xC1) from an MTi-300: PacketCounter and SampleTimeFine at 0xFFFF",
    "init-mt-results": "InitMTResults (MID 0x03) from an MTi-300 with its device ID 037003F8 (README §3.8)",
    "configuration": "Configuration (MID 0x0D, 118 bytes) from an MTi-300: one device, filter profile 39, "
                     "firmware 1.8.2, filter type 'I' version 5.1 (README §3.8)",
    "firmware-rev": "FirmwareRev from an MTi-300: 1.8.2, build 37, SVN revision 70964 (the 11-byte form)",
    "go-to-measurement-ack": "GoToMeasurementAck from an MTi-300",
}
for short, test, wire in CAPTURED_REPLIES:
    add("capture-mti300-" + short, DESCRIPTIONS[short], D2H, h(wire), True,
        scott(TESTS, test + "() ('Tests written from real captured packets from MTi-300'); also "
              + MD + " 'Configuration Response'"))
add("capture-mti300-configuration-replies",
    "The MTi-300's replies of 'Configuration Response', back to back, as one stream", D2H,
    b"".join(h(w) for _, _, w in CAPTURED_REPLIES), False,
    scott(TESTS, "the seven reply frames above, concatenated in the order of " + MD + " 'Configuration Response'"))

CAPTURED_MTDATA2 = [
    ("quaternion-minimal", "test_parse_mdata2_quat_minimal",
     "PacketCounter, SampleTimeFine, Quaternion (float32, ENU) and StatusWord only (md 'Packet Example 6')",
     "faff3626102002468210600401c4fc3e2010103f71ce6cbea56bcf3c613bd8bd691d25e020040040000312"),
    ("shake-clipping", "test_parse_mdata2_shake_clipping",
     "Recorded during a violent shake: accelerations beyond ±30 m/s², clipping flags in the status word (md 'Packet Example 5')",
     "faff368b102002fb8510600401a498de2010103f2a1463bed7efa73cdee5083f1dcec940200cc1f246c3c1ece076c28f853f40100cbd932cccbd92"
     "0a16be3a6eec40300c42519464c27b5a5ac1ccc0ae80200c40854d6dc125559ec0908e1f8030103f7ff8983baa9ee5bc539ec0bbb9060cc0200c3e"
     "dc7439be752b483faf9a3f301004000186dee02004004814018e"),
    ("full", "test_parse_mdata2_full",
     "12 items: counter, time, quaternion, acceleration, delta v, free acceleration, rate of turn, delta q, magnetic field, "
     "temperature, pressure, status (md 'Packet Example 4')",
     "faff3692102002918d10600401363fa62010103f35e0423f31cd15bd9f49dbbda938cf40200cbd635a90411d08d43e5faa5040100cb9116800"
     "3cc901003a0f7d0040300cbc3b29803c35fc003ca46e0080200c3caea241bb56d800bad5ac018030103f80000037df8801b6898000b608c000c"
     "0200cbefbfbf23f33c485bfa0a2c108100442168000301004000186e1e0200400400003dd"),
    ("number-formats", "test_parse_mdata2_number_formats",
     "Euler angles in fp12.20, delta q in fp16.32, magnetic field in float64: items RehabHost skips by their size",
     "faff36511020023bdd20310cfff04735fffdc886073b35c8803218000000010001ffe3e0c4ffffffec2595fffffff464e8ffffc023183fea"
     "ae0fc0000000bfdbc9a7600000003ff9e2062000000008100441db8000ac"),
    ("number-formats-2", "test_parse_mdata2_number_formats_2",
     "Quaternion float32, magnetic field fp12.20, temperature fp16.32 (60 00 00 00 00 18 = 24.375: fraction first), "
     "and a pressure item whose ID says float64 (0x3013) but whose size is 4: skipped by its size",
     "faff3637102002fe782010103f250c01bbcc0dd7bb22740c3f43af57c0210c000f6422fffbd622001c800308120660000000001830130400018d2546"),
    ("rotation-matrix-float32", "test_parse_mdata2_rotmatrix_float", "A rotation matrix (0x2020), float32: not used, skipped",
     "faff3627202024be60ac04bf79be2e3c46f8073f79b254be60e340bca571af3cb73fae3bf2f10c3f7fedd0c8"),
    ("rotation-matrix-fp1220", "test_parse_mdata2_rotmatrix_fp1220", "A rotation matrix in fp12.20: skipped",
     "faff3627202124fffc487ffff0705600002f46000f8efcfffc47baffffb130000057a500001ba9000ffef81a"),
    ("rotation-matrix-fp1632", "test_parse_mdata2_rotmatrix_fp1632", "A rotation matrix in fp16.32 (54 bytes): skipped",
     "faff3639202236c36a0b00ffff0749cf00ffff02cf0a280000f8abb7000000c35ec200fffffb36fec0ffff05506c38000001988a4a0000"
     "fff09e000000a9"),
    ("rotation-matrix-float64", "test_parse_mdata2_rotmatrix_double", "A rotation matrix in float64 (72 bytes): skipped",
     "faff364b202348bfce05ed00000000bfef1b07e00000003f84cb89a00000003fef19f2a0000000bfce0ab900000000bf917a310000000"
     "03f936ddc000000003f780649800000003feffe62800000003c"),
]
for short, test, description, wire in CAPTURED_MTDATA2:
    add("capture-mti300-mtdata2-" + short, "MTData2 from an MTi-300. " + description, D2H, h(wire), True,
        scott(TESTS, test + "()",
              "The payload was recorded with MT Manager; the library's author notes that some golden payloads had no "
              "checksum recorded and computed it (test/test_xsens_mti.c, test_calculate_crc)."))

# md 'Packet Breakdown' (Example 1): the payload only, as printed; we add FA FF 36 LEN and the checksum.
EXAMPLE_1 = h("""10 20 02 A6 55 10 60 04 00 57 47 2E 20 10 10 3F 7F 7D C4 BC 10 10 7D 3B A1 57 70 BD 7E C6 56 40 20 0C BD A2
1A F8 BE 2A 8E 96 41 1D 27 A2 40 10 0C B9 4F C8 00 B9 DA 24 00 3C C9 28 80 40 30 0C 3C 02 C8 9C 3C 35 F6 C8 3C DB 0C 00 80
20 0C BB B1 7D 81 BB 96 32 00 3C 01 E8 41 80 30 10 3F 80 00 00 B6 E3 30 01 B6 C0 40 00 37 26 48 00 C0 20 0C BE 99 9C 24
3F B6 1B 56 3F 16 6A EB 30 10 04 00 01 86 DE E0 20 04 00 40 00 03""")
assert len(EXAMPLE_1) == 139
add("capture-mti300-mtdata2-packet-breakdown",
    "MTData2 from an MTi-300, the 11-item 'Packet Breakdown' (PacketCounter 42581, SampleTimeFine 5719854)", D2H,
    xs.message("mt_data2", EXAMPLE_1), True,
    scott(MD, "'Packet Breakdown', Raw Data (139 bytes)",
          "Only the payload is published; FA FF 36 8B and the checksum were added by make_vectors.py."))

# ---------------------------------------------------------------------------------------------
# Real captures: an MTi-G-710 (einride/xsens-go). Each file is 100 MTData2 messages exactly as read from
# the serial port; the slices below are copied verbatim (dataset, first frame, frames, byte offset, hex).

EINRIDE_SLICES = [
    (1, 0, 3, 0, (
        "faff3662102002a9861060040314ed5310100c07440be007e301140d2f1837e020040180000740200cbc8e5466c0e82f10bf"
        "9ad29e40100cb935269fbd949930bc46234680200cbb425c343b1068df3ae1c7e58030103f800001b778c7f03738d8273710"
        "7feef7faff3671102002a9871060040314edb710100c07dca26007e301140d2f1837e020040000000520300cc2c6ec743e08"
        "3f53c33330cb40200c3ce7e9cbc11a8e2fbfd04d0c40100c39931323bdc5d49bbc8552c480200c3ab21f42bb513ab9bb51e9"
        "4c8030103f80000136e3ff0cb785e822b78657df19faff3671102002a9881060040314ee1b10100c087538e007e301140d2f"
        "1837e020040000000520300cc2c6ec1f3e07b80ac333309940200c3d26e1e0c11a9c5bbfcfcb7640100c39d525c9bdc5e6c3"
        "bc84ff6280200c3a9488c2ba99392aba9136fb8030103f80000036be1fb1b6c42036b6b9dff9b5"
    )),
    (1, 18, 1, 2109, (
        "faff367c70105e02f5c92a07e301140d2f1837000000050ee32a2403010b00071522e822612f5500013f710000a92a000008"
        "d300000818ffffffe50000000afffffffe0000001d000000000000015e00e5519a00020000009a008b004400700053003700"
        "3e10100c0ee6b28007e301140d2f18371060040314f254102002a99808"
    )),
    (2, 0, 2, 0, (
        "faff365f102002a9ea106004031518da10100c0e14204007e301140d2f1937e010010540210c00007d65ff8bb2caffebfc2e"
        "40110c00000141fffed645ffffccc580210cfffffb1b000003acffffffa680311000100001fffffffa00000005000000006a"
        "faff366e102002a9eb1060040315193e10100c0eacb6c007e301140d2f1937e010010520310cf9c3c608fffc292d0b29f110"
        "40210c0000bb67ff6501f0ffe5f28740110c000001dcfffe7339ffffbd4f80210cfffffee2fffff30fffffed468031100010"
        "000100000000fffffff0ffffffe9db"
    )),
    (3, 0, 2, 0, (
        "faff3679102002aa4e1060040315446e10100c14f80ac007e301140d2f1a37e01001054022120bd2d9600000bc86a000fff8"
        "c82ab000fffe401212001e139f0000ed67c100fffffce1a784ffff80221200479ad20000006d5fbf0000ff0a3905ffff8032"
        "1800000001000100005ba6000000008c010000fffec569ffff5dfaff368e102002aa4f106004031544d210100c1590a14007"
        "e301140d2f1a37e01001052032127ad50000ff9ca4683180ffffdfa7000000b1402212070d5ee8000052873000fff659cc80"
        "00fffe4012120011f7e60000e739adc0fffffbc72050ffff80221200288d690000ff6c6b02ffffff8ea4dbffff8032180000"
        "00010001000033e80000ffff4318ffffffff6ee8ffff3f"
    )),
    (4, 0, 2, 0, (
        "faff3693102002aab210600403156ff210100c1bc38b4007e301140d2f1b37e01001054023183f7132f3a0000000c01d0038"
        "a0000000bff3678d800000004013183f05f57a00000000bfb28f8020000000bf88d67f800000008023183f149ade60000001"
        "3f353d8280000000bf1850fdc00000008033203ff00000000000013e9a5fd4e00000003ebb3002e0000001be9f1ffd000000"
        "00cffaff36ae102002aab31060040315705610100c1c5c21c007e301140d2f1b37e0100105203318c058dfcba0000000bfa1"
        "18abe0000000406679c9a00000004023183f9a8e0600000000c0235d70e0000000bffa6725400000004013183f30e95d2000"
        "0000bfb8c988c0000000bf90e5a060000000802318bf4d16dd80000000bf58f1ed40000001bf59ce41800000008033203ff0"
        "000000000001bed29dfe60000000bedfedfc80000000bee084010000000015"
    )),
    (5, 2, 2, 128, (
        "faff3688102002ab1810600403159bea1070040000143610100c23400c4007e301140d2f1c37e0200400000005202024bf7f"
        "fcae3c2262113adf1750b786f2003e2bb3b0bf7c6020bc24c28cbf7c5cdcbe2bb17040300c3b38ce9ebc30fd11bc6e6d0020"
        "10103b7c2094bb542cd0bf439afe3f25251a08100442134000c0200c3daaa4903e41ed4e3e202dcf54faff368f102002ab19"
        "10600403159c4e1070040000143610100c23d8a2c007e301140d2f1c37e0200400000005202024bf7ffcb23c21dba03ae221"
        "3cb838b1003e2bbb06bf7c5fd1bc244e52bf7c5c93be2bb8b640300cb9755912bafcc17c3b5d54002010103b7c06f4bb52e2"
        "cebf439b983f25246608100442134000c0200c3d85550d3e3fc0193e1a877530100400018c10f9"
    )),
]

# The publisher's own decoding of the same frames (testdata/<n>/output.golden), copied as printed.
EINRIDE_GOLDEN = {
    (1, 0): {"packet_counter": 43398, "sample_time_fine": 51703123, "status_word": 0b00000001100000000000000000000111,
             "acceleration_m_s2": ("-0.017374228686094284", "-7.255744934082031", "-1.209552526473999"),
             "rate_of_turn_rad_s": ("-0.002965700812637806", "0.0022035164292901754", "0.0017225710907950997")},
    (1, 1): {"packet_counter": 43399, "sample_time_fine": 51703223, "status_word": 0b101,
             "acceleration_m_s2": ("0.028309723362326622", "-9.659712791442871", "-1.6273512840270996"),
             "rate_of_turn_rad_s": ("0.0013589637819677591", "-0.0031925870571285486", "-0.0032029924914240837")},
    (1, 2): {"packet_counter": 43400, "sample_time_fine": 51703323, "status_word": 0b101,
             "acceleration_m_s2": ("0.04074275493621826", "-9.663172721862793", "-1.623396635055542"),
             "rate_of_turn_rad_s": ("0.001133226091042161", "-0.0011690009851008654", "-0.001107900752685964")},
    (1, 18): {"packet_counter": 43416, "sample_time_fine": 51704404},
    (2, 0): {"packet_counter": 43498, "sample_time_fine": 51714266,
             "acceleration_m_s2": ("0.03061389923095703", "-7.268850326538086", "-1.2509326934814453"),
             "rate_of_turn_rad_s": ("-0.0011949539184570312", "0.000896453857421875", "-8.58306884765625e-05")},
    (2, 1): {"packet_counter": 43499, "sample_time_fine": 51714366,
             "acceleration_m_s2": ("0.045752525329589844", "-9.687026977539062", "-1.6282892227172852"),
             "rate_of_turn_rad_s": ("-0.0002727508544921875", "-0.0031595230102539062", "-0.0045719146728515625")},
    (3, 0): {"packet_counter": 43598, "sample_time_fine": 51725422,
             "acceleration_m_s2": ("0.04618605226278305", "-7.263570785522461", "-1.2180986404418945"),
             "rate_of_turn_rad_s": ("0.0010926020331680775", "0.0016689149197191", "-0.0037502634804695845")},
    (3, 1): {"packet_counter": 43599, "sample_time_fine": 51725522,
             "acceleration_m_s2": ("0.027547771111130714", "-9.677624702453613", "-1.6492233276367188"),
             "rate_of_turn_rad_s": ("0.0006187802646309137", "-0.002251922618597746", "-0.0017296758014708757")},
    (4, 0): {"packet_counter": 43698, "sample_time_fine": 51736562,
             "acceleration_m_s2": ("0.004198981914669275", "-7.250216007232666", "-1.2127814292907715"),
             "rate_of_turn_rad_s": ("7.860166806494818e-05", "0.00032410083804279566", "-9.27595974644646e-05")},
    (4, 1): {"packet_counter": 43699, "sample_time_fine": 51736662,
             "acceleration_m_s2": ("0.025932401418685913", "-9.682501792907715", "-1.6501820087432861"),
             "rate_of_turn_rad_s": ("-0.0008877355139702559", "-0.0015225235838443043", "-0.0015750541351735592")},
    (5, 2): {"packet_counter": 43800, "sample_time_fine": 51747818, "status_word": 0b101,
             "quaternion": ("0.0038471566513180733", "-0.003237534314393997", "-0.764083743095398", "0.6450973749160767")},
    (5, 3): {"packet_counter": 43801, "sample_time_fine": 51747918, "status_word": 0b101,
             "quaternion": ("0.003845629282295704", "-0.003217864315956831", "-0.7640929222106934", "0.6450866460800171")},
}

EINRIDE_NAMES = {
    (1, 0): ("capture-mti-g-710-float32-stream",
             "Three MTData2 frames back to back from an MTi-G-710: counter, time, UTC time, status word, Euler angles, "
             "acceleration, delta v, rate of turn, delta q (float32); the first frame has no Euler angles",
             "the first three frames of the recording"),
    (1, 18): ("capture-mti-g-710-gnss-pvt",
              "MTData2 from an MTi-G-710 with a GnssPvtData item (0x7010, 94 bytes) among the others: skipped by its size",
              "frame 19 of the recording, the first with GNSS PVT data"),
    (2, 0): ("capture-mti-g-710-fp1220", "Two MTData2 frames from an MTi-G-710 configured for fixed point 12.20",
             "the first two frames of the recording"),
    (3, 0): ("capture-mti-g-710-fp1632", "Two MTData2 frames from an MTi-G-710 configured for fixed point 16.32",
             "the first two frames of the recording"),
    (4, 0): ("capture-mti-g-710-float64", "Two MTData2 frames from an MTi-G-710 configured for float64",
             "the first two frames of the recording"),
    (5, 2): ("capture-mti-g-710-quaternion",
             "Two MTData2 frames from an MTi-G-710 with a quaternion (float32, ENU), rotation matrix, free acceleration, "
             "temperature, magnetic field and pressure",
             "frames 3 and 4 of the recording (the first two with an orientation)"),
}


def check_golden(dataset, first, wire):
    """The reference decoder must agree exactly with the publisher's own decoding."""
    results, stats = xs.receive(wire)
    assert stats["checksum_errors"] == 0 and stats["discarded_bytes"] == 0, (dataset, first, stats)
    for k, result in enumerate(results):
        want = EINRIDE_GOLDEN.get((dataset, first + k))
        if want is None:
            continue
        got = result["packet"]["fields"]["sample"]
        for key, value in want.items():
            if key in ("packet_counter", "sample_time_fine", "status_word"):
                assert got[key] == value, (dataset, first + k, key, got[key], value)
            elif key == "quaternion":
                assert [got[key][c] for c in "wxyz"] == [float(v) for v in value], (dataset, first + k, key)
            else:
                assert [got[key][c] for c in "xyz"] == [float(v) for v in value], (dataset, first + k, key)


for dataset, first, count, offset, chunks in EINRIDE_SLICES:
    wire = h("".join(chunks))
    check_golden(dataset, first, wire)
    name, description, where = EINRIDE_NAMES[(dataset, first)]
    add(name, description, D2H, wire, count == 1,
        einride(dataset, offset, len(wire), where + "; the publisher's decoding of these frames is checked by make_vectors.py"))


def check_scottapotamas():
    """Values printed in docs/mtmanager_packets.md and asserted by the publisher's tests."""
    def sample(name):
        wire = next(v["wire"] for v in VECTORS if v["name"] == name)
        results, stats = xs.receive(wire)
        assert stats["checksum_errors"] == 0, name
        return results[0]["packet"]["fields"]["sample"]
    s = sample("capture-mti300-mtdata2-quaternion-minimal")
    assert s["packet_counter"] == 18050 and s["sample_time_fine"] == 29686846 and s["status_word"] == 0x00400003
    assert [round(s["quaternion"][c], 8) for c in "wxyz"] == [0.944556, -0.32308814, 0.01374718, -0.05691256]
    s = sample("capture-mti300-mtdata2-shake-clipping")
    assert s["packet_counter"] == 64389 and s["sample_time_fine"] == 27564254
    assert [round(s["acceleration_m_s2"][c], 5) for c in "xyz"] == [-30.28455, -29.6096, -71.76025]
    assert [round(s["rate_of_turn_rad_s"][c], 6) for c in "xyz"] == [4.165701, -10.333403, -4.517349]
    s = sample("capture-mti300-mtdata2-packet-breakdown")
    assert s["packet_counter"] == 42581 and s["sample_time_fine"] == 5719854
    assert [round(s["acceleration_m_s2"][c], 7) for c in "xyz"] == [-0.079153, -0.1665595, 9.822176]
    results, _ = xs.receive(next(v["wire"] for v in VECTORS if v["name"] == "capture-mti300-firmware-rev"))
    assert results[0]["packet"]["fields"] == {"major": 1, "minor": 8, "revision": 2, "build": 37, "svn_revision": 70964}


check_scottapotamas()

# ---------------------------------------------------------------------------------------------
# Our own: every message the host sends or accepts (README §3, §5)

for name, description in [
    ("wake_up_ack", "WakeUpAck: the host's answer to WakeUp, within 500 ms, keeps the device in Config state"),
    ("go_to_config", "GoToConfig"), ("go_to_measurement", "GoToMeasurement"), ("req_did", "ReqDID"),
    ("req_product_code", "ReqProductCode"), ("req_fw_rev", "ReqFWRev"),
    ("set_output_configuration", "ReqOutputConfiguration: SetOutputConfiguration's MID without data asks for the current one"),
]:
    add("host-" + name.replace("_", "-") + ("" if name != "set_output_configuration" else "-request"), description, H2D,
        xs.message(name), True, ours("README §3"))

HOST_CONFIGURATION = [(0x1020, 0xFFFF), (0x1060, 0xFFFF), (0x2010, 400), (0x4020, 400), (0x8020, 400), (0xE020, 0xFFFF)]
add("host-set-output-configuration",
    "SetOutputConfiguration as RehabHost sends it (README §5.2): counter, time and status with every sample, "
    "quaternion (float32, ENU), acceleration and rate of turn at 400 Hz", H2D,
    xs.message("set_output_configuration", xs.output_configuration_payload(HOST_CONFIGURATION)), True,
    ours("README §3.6, §5.2"))
add("host-set-output-configuration-fp1632-ned",
    "SetOutputConfiguration asking for fp16.32 and a NED quaternion at 100 Hz", H2D,
    xs.message("set_output_configuration", xs.output_configuration_payload(
        [(0x1020, 0xFFFF), (0x1060, 0xFFFF), (0x2016, 100), (0x4022, 100), (0x8022, 100), (0xE020, 0xFFFF)])), True,
    ours("README §3.6, §4.1"))

for name, description in [
    ("wake_up", "WakeUp: what the device sends at power-up"), ("go_to_config_ack", "GoToConfigAck"),
    ("go_to_measurement_ack", "GoToMeasurementAck"),
]:
    add("device-" + name.replace("_", "-"), description, D2H, xs.message(name), True, ours("README §3"))
add("device-device-id", "DeviceID 037003F8", D2H, xs.message("device_id", h("03 70 03 F8")), True, ours("README §3.3"))
add("device-device-id-8-bytes", "DeviceID in 8 bytes (accepted, README §3.3)", D2H,
    xs.message("device_id", h("00 00 00 01 23 45 67 89")), True, ours("README §3.3"))
add("device-product-code", "ProductCode 'MTi-630-8A1G6'", D2H, xs.message("product_code", b"MTi-630-8A1G6"), True,
    ours("README §3.4"))
add("device-product-code-padded", "ProductCode 'MTi-3-8A7G6' padded with spaces to 20 bytes", D2H,
    xs.message("product_code", b"MTi-3-8A7G6".ljust(20)), True, ours("README §3.4"))
add("device-firmware-rev-short", "FirmwareRev in its 3-byte form: 1.2.3", D2H, xs.message("firmware_rev", bytes([1, 2, 3])),
    True, ours("README §3.5"))
add("device-firmware-rev", "FirmwareRev in its 11-byte form: 1.12.0, build 92, SVN revision 113537", D2H,
    xs.message("firmware_rev", xs.firmware_rev_payload(1, 12, 0, 92, 113537)), True, ours("README §3.5"))
add("device-output-configuration", "OutputConfiguration (the ack): the device confirms RehabHost's request", D2H,
    xs.message("output_configuration", xs.output_configuration_payload(HOST_CONFIGURATION)), True, ours("README §3.6"))
add("device-output-configuration-adjusted",
    "OutputConfiguration (the ack) with the rates the device actually uses (400 Hz asked, 100 Hz given)", D2H,
    xs.message("output_configuration", xs.output_configuration_payload(
        [(0x1020, 0xFFFF), (0x1060, 0xFFFF), (0x2010, 100), (0x4020, 100), (0x8020, 100), (0xE020, 0xFFFF)])), True,
    ours("README §3.6"))
for code, name in sorted(xs.ERROR_CODES.items()):
    add("device-error-" + name.replace("_", "-"), "Error %s (0x%02X)" % (name, code), D2H, xs.message("error", bytes([code])),
        True, ours("README §3.7"))
add("device-error-unknown-code", "Error with a code outside the documented list (0x99): still an Error", D2H,
    xs.message("error", b"\x99"), True, ours("README §3.7"))
add("device-error-with-extra-bytes", "Error 0x28 (device error) followed by four bytes the host keeps but does not interpret",
    D2H, xs.message("error", h("28 00 00 01 02")), True, ours("README §3.7"))

# MTData2 as a simulated device sends it (README §4.4)
SAMPLE = {"packet_counter": 4660, "sample_time_fine": 123456789,
          "quaternion": {"w": 0.5, "x": -0.5, "y": 0.5, "z": 0.5},
          "acceleration_m_s2": {"x": 0.0625, "y": -0.375, "z": 9.8125},
          "rate_of_turn_rad_s": {"x": 0.125, "y": -0.25, "z": 1.5},
          "status_word": 0x00000003}
for precision in ("float32", "fp1220", "fp1632", "float64"):
    add("device-mtdata2-%s" % precision,
        "MTData2 with the six items RehabHost reads, values in %s" % precision, D2H,
        xs.message("mt_data2", xs.mtdata2_payload(SAMPLE, precision)), True, ours("README §4"))
for coordinates in ("ned", "nwu"):
    add("device-mtdata2-quaternion-%s" % coordinates, "MTData2 with a float32 quaternion in %s" % coordinates.upper(),
        D2H, xs.message("mt_data2", xs.mtdata2_payload(SAMPLE, "float32", coordinates)), True, ours("README §4.1"))
REAL_VALUES = {"packet_counter": 65535, "sample_time_fine": 4294967295,
               "quaternion": {"w": 0.7071067690849304, "x": 0.0, "y": -0.7071067690849304, "z": 0.0},
               "acceleration_m_s2": {"x": -0.07915300130844116, "y": -0.16655954718589783, "z": 9.822175979614258},
               "rate_of_turn_rad_s": {"x": -0.005416566133499146, "y": -0.004583597183227539, "z": 0.007928909920156002},
               "status_word": 0xFFFFFFFF}
add("device-mtdata2-extremes", "MTData2 with the largest counter and time values and float32-exact measurements", D2H,
    xs.message("mt_data2", xs.mtdata2_payload(REAL_VALUES, "float32")), True, ours("README §4"))
add("device-mtdata2-counter-only", "MTData2 with a packet counter only: every other field is absent (README §5.4)", D2H,
    xs.message("mt_data2", xs.mtdata2_payload({"packet_counter": 7})), True, ours("README §4.3, §5.4"))
add("device-mtdata2-empty", "MTData2 without any item: valid, every field absent", D2H, xs.message("mt_data2"), True,
    ours("README §4.3"))

# MTData2 item rules (README §4.3)
pc = struct.pack(">HBH", 0x1020, 2, 9)
stf = struct.pack(">HBI", 0x1060, 4, 1000)
sw = struct.pack(">HBI", 0xE020, 4, 3)
add("mtdata2-unknown-data-id", "MTData2 with an unknown data ID (0x7777, 5 bytes) between known items: skipped by its size",
    D2H, xs.message("mt_data2", pc + struct.pack(">HB", 0x7777, 5) + h("FA FF 36 00 CB") + stf + sw), True,
    ours("README §4.3 step 3"))
add("mtdata2-truncated-item",
    "MTData2 whose last item declares 12 bytes but only 4 follow: the frame decodes, the items before it are kept, the "
    "sample is marked truncated", D2H,
    xs.message("mt_data2", pc + stf + struct.pack(">HB", 0x8020, 12) + h("3E 00 00 00")), True,
    ours("README §4.3 step 2"))
add("mtdata2-truncated-header", "MTData2 ending in two bytes of an item header: truncated", D2H,
    xs.message("mt_data2", pc + h("80 20")), True, ours("README §4.3 step 2"))
add("mtdata2-malformed-items",
    "MTData2 with a packet counter of 4 bytes, a float32 quaternion of 12 bytes and a quaternion with coordinate bits 0xC: "
    "all three ignored and counted; the status word still decodes", D2H,
    xs.message("mt_data2", struct.pack(">HBI", 0x1020, 4, 1) + struct.pack(">HB", 0x2010, 12) + bytes(12)
               + struct.pack(">HB", 0x201C, 16) + bytes(16) + sw), True, ours("README §4.3 step 4"))
add("mtdata2-repeated-item", "MTData2 with two packet counters: the last one wins", D2H,
    xs.message("mt_data2", pc + struct.pack(">HBH", 0x1020, 2, 10)), True, ours("README §4.3 step 5"))

# Framing and the receiver (README §2, §7)
# README §3.8: what Xsens's MT SDK sends while opening a port (the bytes MRPT 2.5.8's copy of the SDK wrote to
# a pseudo-terminal, in the order it sent them), and the simulated MTi's answers.
SDK_BASIS = ("README §3.8; the bytes the Xsens MT SDK (xspublic, as built into MRPT 2.5.8, Debian "
             "libmrpt-hwdrivers2.5 1:2.5.8+ds-2) wrote while opening a port, observed on a pseudo-terminal")
add("sdk-init-mt", "InitMT (InitBus in the MT SDK, MID 0x02), no data", H2D, xs.message("init_mt"), True, ours(SDK_BASIS))
add("sdk-req-configuration", "ReqConfiguration (MID 0x0C) without data, as the MT SDK sends it after InitMT", H2D,
    xs.message("req_configuration"), True, ours(SDK_BASIS))
add("sdk-req-configuration-with-emts-bytes",
    "ReqConfiguration with two data bytes 00 FF: the MT SDK reuses its ReqEMTS message; the data is ignored", H2D,
    xs.message("req_configuration", h("00 FF")), True, ours(SDK_BASIS))
add("sdk-req-hardware-version", "ReqHardwareVersion (MID 0x1E), no data", H2D, xs.message("req_hardware_version"), True,
    ours(SDK_BASIS))
add("sdk-req-available-filter-profiles", "ReqAvailableFilterProfiles (MID 0x62), no data", H2D,
    xs.message("req_available_filter_profiles"), True, ours(SDK_BASIS))
add("sdk-set-string-output-type", "SetStringOutputType 0 (MID 0x8E): no NMEA strings", H2D,
    xs.message("set_string_output_type", h("00 00")), True, ours(SDK_BASIS))
add("sdk-req-emts", "ReqEMTS (MID 0x90) for bank 0, page 0xFF: all of the eMTS data", H2D,
    xs.message("req_emts", h("00 FF")), True, ours(SDK_BASIS))

SIM_DID = 0x03700001
SIM_CONFIGURATION = (struct.pack(">IHH", SIM_DID, 1152, 0) + bytes(88) + struct.pack(">H", 1)
                     + struct.pack(">IHHIH", SIM_DID, 0, 0, 1, 39) + bytes([1, 8, 2]) + b"I" + bytes([5, 1]))
assert len(SIM_CONFIGURATION) == 118
SIM_PROFILES = b"".join(bytes([number, 1]) + label.encode().ljust(20, b"\0") for number, label in (
    (39, "general"), (40, "high_mag_dep"), (41, "dynamic"), (42, "low_mag_dep"), (43, "vru_general")))
add("device-init-mt-results", "InitMTResults with the simulated MTi's device ID 03700001", D2H,
    xs.message("init_mt_results", struct.pack(">I", SIM_DID)), True, ours("README §3.8"))
add("device-configuration",
    "Configuration of the simulated MTi (03700001, firmware 1.8.2): the MTi-300 capture's layout and constants",
    D2H, xs.message("configuration", SIM_CONFIGURATION), True, ours("README §3.8; capture-mti300-configuration"))
add("device-hardware-version", "HardwareVersion 1.0 (the simulated MTi's)", D2H,
    xs.message("hardware_version", h("01 00")), True, ours("README §3.8"))
add("device-available-filter-profiles",
    "AvailableFilterProfiles: the five profiles of an MTi-300 (general 39 … vru_general 43), version 1", D2H,
    xs.message("available_filter_profiles", SIM_PROFILES), True, ours("README §3.8"))
add("device-string-output-type", "The answer to ReqStringOutputType: type 0, no NMEA strings", D2H,
    xs.message("string_output_type", h("00 00")), True, ours("README §3.8"))
add("device-emts-data-empty", "EMTSData without data: the simulated MTi's answer to ReqEMTS", D2H,
    xs.message("emts_data"), True, ours("README §3.8"))
add("bad-length-configuration", "Configuration of 117 bytes: rejected (bad length)", D2H,
    xs.frame(0x0D, SIM_CONFIGURATION[:117]), False, ours("README §3.8"))
add("bad-length-configuration-device-count", "Configuration of 118 bytes announcing 2 devices: rejected (bad length)",
    D2H, xs.frame(0x0D, SIM_CONFIGURATION[:96] + h("00 02") + SIM_CONFIGURATION[98:]), False, ours("README §3.8"))
add("bad-length-req-emts", "ReqEMTS with one byte: rejected (bad length)", H2D, xs.frame(0x90, h("00")), False,
    ours("README §3.8"))
add("bad-length-hardware-version", "HardwareVersion of 3 bytes: rejected (bad length)", D2H,
    xs.frame(0x1F, h("01 00 00")), False, ours("README §3.8"))

GOOD = xs.message("mt_data2", xs.mtdata2_payload(SAMPLE, "float32"))
ACK = xs.message("go_to_config_ack")
add("junk-before-frame", "Junk bytes (including a lone 0xFA and FA 00) before an MTData2 frame", D2H,
    h("00 11 FA 22 FA 00 33 FF") + GOOD, False, ours("README §7 steps 1-2"))
add("junk-glued-after-frame", "An ack with junk glued to its end, then another ack", D2H, ACK + h("FA 55 FF 00") + ACK,
    False, ours("README §7 steps 1-2"))
add("back-to-back-frames", "GoToConfigAck, DeviceID, ProductCode, FirmwareRev, OutputConfiguration, GoToMeasurementAck "
    "and two MTData2 frames without a gap: the host's whole start-up exchange", D2H,
    ACK + xs.message("device_id", h("03 70 03 F8")) + xs.message("product_code", b"MTi-630-8A1G6")
    + xs.message("firmware_rev", xs.firmware_rev_payload(1, 12, 0, 92, 113537))
    + xs.message("output_configuration", xs.output_configuration_payload(HOST_CONFIGURATION))
    + xs.message("go_to_measurement_ack") + GOOD + xs.message("mt_data2", xs.mtdata2_payload(dict(SAMPLE, packet_counter=4661),
                                                                                              "float32")),
    False, ours("README §5"))
add("preamble-bytes-in-a-row", "FA FA FA then a frame: each extra 0xFA is discarded", D2H, h("FA FA FA") + ACK[1:], False,
    ours("README §7 step 2"))
add("other-bus-id", "A frame with BID 0x01 (an Xbus Master's slave): not a frame for this host, its bytes are junk", D2H,
    h("FA 01 31 00") + bytes([(-(0x01 + 0x31)) & 0xFF]) + ACK, False, ours("README §2.1, §7 step 2"))
bad = bytearray(GOOD)
bad[10] ^= 0x01
add("checksum-error", "An MTData2 frame with one bit flipped, then the intact frame: one checksum error", D2H,
    bytes(bad) + GOOD, False, ours("README §7 step 5"))
bad_cs = bytearray(ACK)
bad_cs[-1] ^= 0xFF
add("checksum-error-in-checksum", "An ack whose checksum byte is wrong, then a good ack", D2H, bytes(bad_cs) + ACK, False,
    ours("README §7 step 5"))
hidden = xs.message("device_id", h("03 70 03 F8"))
add("frame-hidden-behind-false-header",
    "A false header FA FF 36 0A whose 10 bytes hold a whole DeviceID frame: the false frame fails its checksum, the "
    "search restarts one byte after its preamble and finds the DeviceID", D2H,
    h("FA FF 36 0A") + hidden + h("00") + ACK, False, ours("README §7 step 5"))
big = xs.mtdata2_payload(SAMPLE, "float32") + struct.pack(">HB", 0x7777, 250) + bytes(range(250))
add("extended-length", "An MTData2 frame of %d data bytes: LEN 0xFF and a two-byte length (README §2.2)" % len(big), D2H,
    xs.message("mt_data2", big), True, ours("README §2.2"))
largest = bytearray()
while len(largest) < xs.MAX_PAYLOAD:
    room = xs.MAX_PAYLOAD - len(largest) - 3
    size = min(255, room)
    largest += struct.pack(">HB", 0x7770, size) + bytes((i * 7) & 0xFF for i in range(size))
assert len(largest) == xs.MAX_PAYLOAD
add("largest-frame", "The largest legal frame: MTData2 with 2048 data bytes (2055 bytes on the wire)", D2H,
    xs.message("mt_data2", bytes(largest)), True, ours("README §2.2"))
over = h("FA FF 36 FF 08 01") + bytes(0x801)
over += bytes([xs.checksum(over[1:])])
add("oversize-length", "An extended length of 2049 (0x0801): oversize, skipped one byte at a time; then a good ack", D2H,
    over + ACK, False, ours("README §7 step 3"))
short_ext = h("FA FF 31 FF 00 01 00")
short_ext += bytes([xs.checksum(short_ext[1:])])
add("extended-length-too-small", "LEN 0xFF with an extended length of 1: malformed (extended lengths start at 255)", D2H,
    short_ext + ACK, False, ours("README §2.2, §7 step 3"))
add("unknown-message-id", "A checksum-valid frame with MID 0x99: rejected whole as unknown", D2H,
    xs.frame(0x99, h("01 02 03")) + ACK, False, ours("README §7 step 6"))
add("warning-message", "Warning (MID 0x43) is outside the subset: rejected whole", D2H, xs.frame(0x43, h("00 00 00 05")),
    False, ours("README §3, §7 step 6"))
add("bad-length-ack-with-data", "GoToConfigAck carrying a data byte: rejected (bad length)", D2H,
    xs.frame(0x31, h("00")) + ACK, False, ours("README §7 step 7"))
add("bad-length-device-id", "DeviceID of 3 bytes: rejected (bad length)", D2H, xs.frame(0x01, h("03 70 03")), False,
    ours("README §7 step 7"))
add("bad-length-output-configuration", "OutputConfiguration of 6 bytes (not a multiple of 4): rejected", D2H,
    xs.frame(0xC1, h("10 20 FF FF 10 60")), False, ours("README §7 step 7"))
add("bad-length-error-empty", "Error without its code: rejected", D2H, xs.frame(0x42), False, ours("README §7 step 7"))
add("invalid-product-code", "ProductCode with a control character: rejected (invalid field)", D2H,
    xs.frame(0x1D, b"MTi\x01630"), False, ours("README §7 step 7"))
add("truncated-frame", "An ack, then an MTData2 frame cut off after 20 bytes: given up at the end of the input", D2H,
    ACK + GOOD[:20], False, ours("README §7 step 8"))
add("truncated-frame-then-frame",
    "An MTData2 frame cut off after 20 bytes, then a whole ack: the cut frame's checksum fails once its declared length "
    "has arrived, and the ack inside it is found", D2H, GOOD[:20] + ACK + GOOD, False, ours("README §7 steps 4-5"))
add("lone-preamble-at-end", "An ack, then a lone 0xFA at the end of the input: discarded, not a malformed frame", D2H,
    ACK + h("FA"), False, ours("README §7 step 8"))
add("header-only-at-end", "An ack, then FA FF 36 at the end of the input: a malformed (truncated) frame", D2H,
    ACK + h("FA FF 36"), False, ours("README §7 step 8"))


# ---------------------------------------------------------------------------------------------


def render(v):
    results, stats = xs.receive(v["wire"])
    if v["canonical"]:
        assert len(results) == 1 and "packet" in results[0], v["name"]
        p = results[0]["packet"]
        assert xs.frame(p["mid"], h(p["payload_hex"])) == v["wire"], v["name"]
    for r in results:
        p = r.get("packet")
        if p and p["name"] == "mt_data2" and v["source"]["kind"] == "rehabhost":
            # Which encoder options reproduce the payload from the sample (README §4.4), when any do.
            s = p["fields"]["sample"]
            for precision in ("float32", "fp1220", "fp1632", "float64"):
                coords = s["quaternion"]["coordinate_system"] if s["quaternion"] else "enu"
                if s["unused_items"] == 0 and s["malformed_items"] == 0 and not s["truncated"] \
                        and xs.mtdata2_payload(s, precision, coords).hex() == p["payload_hex"]:
                    p["fields"]["encoding"] = {"precision": precision}
                    break
    return {"name": v["name"], "description": v["description"], "direction": v["direction"], "source": v["source"],
            "wire_hex": v["wire"].hex(), "canonical": v["canonical"], "expect": results, "statistics": stats}


def main():
    os.makedirs(OUT, exist_ok=True)
    names = set()
    for old in os.listdir(OUT):
        if old.endswith(".json"):
            os.remove(os.path.join(OUT, old))
    for v in VECTORS:
        assert v["name"] not in names, v["name"]
        names.add(v["name"])
        with open(os.path.join(OUT, v["name"] + ".json"), "w") as f:
            json.dump(render(v), f, indent=2)
            f.write("\n")
    print("wrote %d vectors to %s" % (len(VECTORS), OUT))


if __name__ == "__main__":
    main()
